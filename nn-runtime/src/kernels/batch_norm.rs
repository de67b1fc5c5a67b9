//! Batch normalization over the last axis, with Keras's defaults
//! (momentum 0.99, epsilon 1e-3).
//!
//! Training mode normalises with the batch's own mean and (biased) variance
//! and moves the running statistics toward them:
//! `moving = momentum * moving + (1 - momentum) * batch`, as Keras 3 does.
//! Inference mode uses the running statistics.

use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::workspace::Workspace;

/// Static description of one batch-normalization layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNorm {
    pub channels: usize,
    pub momentum: f32,
    pub epsilon: f32,
}

/// The layer's parameters and running statistics, each `[channels]`.
#[derive(Debug)]
pub struct BatchNormParams<'a> {
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub moving_mean: &'a mut [f32],
    pub moving_variance: &'a mut [f32],
}

impl BatchNorm {
    /// Keras's defaults for `channels` channels.
    pub const fn keras(channels: usize) -> Self {
        Self {
            channels,
            momentum: 0.99,
            epsilon: 1e-3,
        }
    }

    fn check(&self, name: &'static str, rows: usize, p: &BatchNormParams) -> Result<(), KernelError> {
        expect_nonzero(name, "rows", rows)?;
        expect_nonzero(name, "channels", self.channels)?;
        expect_len(name, "gamma", p.gamma, self.channels)?;
        expect_len(name, "beta", p.beta, self.channels)?;
        expect_len(name, "moving_mean", p.moving_mean, self.channels)?;
        expect_len(name, "moving_variance", p.moving_variance, self.channels)
    }

    /// Training forward over `x: [rows, channels]`. Writes `y` and saves the
    /// batch mean and inverse standard deviation (`saved: [2 * channels]`)
    /// for backward.
    pub fn forward_train(
        &self,
        rows: usize,
        x: &[f32],
        params: BatchNormParams,
        y: &mut [f32],
        saved: &mut [f32],
    ) -> Result<(), KernelError> {
        const NAME: &str = "batch_normalization";
        self.check(NAME, rows, &params)?;
        let c = self.channels;
        expect_len(NAME, "x", x, rows * c)?;
        expect_len(NAME, "y", y, rows * c)?;
        expect_len(NAME, "saved", saved, 2 * c)?;
        let (mean, inv_std) = saved.split_at_mut(c);
        mean.fill(0.0);
        for row in x.chunks_exact(c) {
            mean.iter_mut().zip(row).for_each(|(m, v)| *m += v);
        }
        let inv_rows = 1.0 / rows as f32;
        mean.iter_mut().for_each(|m| *m *= inv_rows);
        // Two passes (mean, then squared deviations) for a stable variance.
        let var = inv_std;
        var.fill(0.0);
        for row in x.chunks_exact(c) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(mean.iter()) {
                let d = v - m;
                *s += d * d;
            }
        }
        var.iter_mut().for_each(|s| *s *= inv_rows);
        for ch in 0..c {
            params.moving_mean[ch] =
                self.momentum * params.moving_mean[ch] + (1.0 - self.momentum) * mean[ch];
            params.moving_variance[ch] =
                self.momentum * params.moving_variance[ch] + (1.0 - self.momentum) * var[ch];
        }
        var.iter_mut().for_each(|s| *s = 1.0 / (*s + self.epsilon).sqrt());
        let inv_std = var;
        for (out, row) in y.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
            for ch in 0..c {
                out[ch] = params.gamma[ch] * (row[ch] - mean[ch]) * inv_std[ch] + params.beta[ch];
            }
        }
        Ok(())
    }

    /// Inference forward with the running statistics.
    pub fn forward_infer(
        &self,
        rows: usize,
        x: &[f32],
        params: BatchNormParams,
        y: &mut [f32],
    ) -> Result<(), KernelError> {
        const NAME: &str = "batch_normalization";
        self.check(NAME, rows, &params)?;
        let c = self.channels;
        expect_len(NAME, "x", x, rows * c)?;
        expect_len(NAME, "y", y, rows * c)?;
        for (out, row) in y.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
            for ch in 0..c {
                let scale = params.gamma[ch] / (params.moving_variance[ch] + self.epsilon).sqrt();
                out[ch] = (row[ch] - params.moving_mean[ch]) * scale + params.beta[ch];
            }
        }
        Ok(())
    }

    /// Backward of [`BatchNorm::forward_train`]. `dgamma`, `dbeta` and `dx`
    /// accumulate.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_train(
        &self,
        rows: usize,
        x: &[f32],
        gamma: &[f32],
        saved: &[f32],
        dy: &[f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
        dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "batch_normalization backward";
        let c = self.channels;
        expect_nonzero(NAME, "rows", rows)?;
        expect_nonzero(NAME, "channels", c)?;
        expect_len(NAME, "x", x, rows * c)?;
        expect_len(NAME, "gamma", gamma, c)?;
        expect_len(NAME, "saved", saved, 2 * c)?;
        expect_len(NAME, "dy", dy, rows * c)?;
        expect_len(NAME, "dgamma", dgamma, c)?;
        expect_len(NAME, "dbeta", dbeta, c)?;
        let (mean, inv_std) = saved.split_at(c);
        let (sum_dy, sum_dy_xhat) = ws.take2(c, c);
        sum_dy.fill(0.0);
        sum_dy_xhat.fill(0.0);
        for (row, g) in x.chunks_exact(c).zip(dy.chunks_exact(c)) {
            for ch in 0..c {
                let xhat = (row[ch] - mean[ch]) * inv_std[ch];
                sum_dy[ch] += g[ch];
                sum_dy_xhat[ch] += g[ch] * xhat;
            }
        }
        for ch in 0..c {
            dgamma[ch] += sum_dy_xhat[ch];
            dbeta[ch] += sum_dy[ch];
        }
        if let Some(dx) = dx {
            expect_len(NAME, "dx", dx, rows * c)?;
            let inv_rows = 1.0 / rows as f32;
            for ((d, row), g) in dx
                .chunks_exact_mut(c)
                .zip(x.chunks_exact(c))
                .zip(dy.chunks_exact(c))
            {
                for ch in 0..c {
                    let xhat = (row[ch] - mean[ch]) * inv_std[ch];
                    let centred = g[ch] - inv_rows * (sum_dy[ch] + xhat * sum_dy_xhat[ch]);
                    d[ch] += gamma[ch] * inv_std[ch] * centred;
                }
            }
        }
        Ok(())
    }

    /// Backward of [`BatchNorm::forward_infer`] (frozen statistics, e.g. for
    /// input gradients of a trained network). `dgamma`, `dbeta`, `dx` accumulate.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_infer(
        &self,
        rows: usize,
        x: &[f32],
        params: BatchNormParams,
        dy: &[f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
        dx: Option<&mut [f32]>,
    ) -> Result<(), KernelError> {
        const NAME: &str = "batch_normalization backward";
        self.check(NAME, rows, &params)?;
        let c = self.channels;
        expect_len(NAME, "x", x, rows * c)?;
        expect_len(NAME, "dy", dy, rows * c)?;
        expect_len(NAME, "dgamma", dgamma, c)?;
        expect_len(NAME, "dbeta", dbeta, c)?;
        for (row, g) in x.chunks_exact(c).zip(dy.chunks_exact(c)) {
            for ch in 0..c {
                let inv_std = 1.0 / (params.moving_variance[ch] + self.epsilon).sqrt();
                dgamma[ch] += g[ch] * (row[ch] - params.moving_mean[ch]) * inv_std;
                dbeta[ch] += g[ch];
            }
        }
        if let Some(dx) = dx {
            expect_len(NAME, "dx", dx, rows * c)?;
            for (d, g) in dx.chunks_exact_mut(c).zip(dy.chunks_exact(c)) {
                for ch in 0..c {
                    let inv_std = 1.0 / (params.moving_variance[ch] + self.epsilon).sqrt();
                    d[ch] += g[ch] * params.gamma[ch] * inv_std;
                }
            }
        }
        Ok(())
    }
}
