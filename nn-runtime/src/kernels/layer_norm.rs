//! Keras's `LayerNormalization` over the last axis: each row is normalised
//! by its own mean and (biased) variance, then scaled by `gamma` and shifted
//! by `beta` (either may be absent: Keras's `scale=False`, `center=False`).
//!
//! Backward recomputes each row's mean and variance from the input instead
//! of saving them: one more pass over the row, but no buffer whose size
//! depends on the batch.

use crate::error::{expect_len, expect_nonzero, KernelError};

/// Static description of one layer-normalization layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerNorm {
    /// Length of the last axis, the one normalised.
    pub width: usize,
    pub epsilon: f32,
}

/// Gradients of the parameters the layer has; each accumulates.
#[derive(Debug)]
pub struct LayerNormGrads<'a> {
    pub dgamma: Option<&'a mut [f32]>,
    pub dbeta: Option<&'a mut [f32]>,
    pub dx: Option<&'a mut [f32]>,
}

impl LayerNorm {
    /// Keras's default epsilon (1e-3).
    pub const fn keras(width: usize) -> Self {
        Self { width, epsilon: 1e-3 }
    }

    fn check(&self, name: &'static str, rows: usize, gamma: Option<&[f32]>) -> Result<(), KernelError> {
        expect_nonzero(name, "rows", rows)?;
        expect_nonzero(name, "width", self.width)?;
        if self.epsilon.is_nan() || self.epsilon <= 0.0 {
            return Err(KernelError::InvalidArgument {
                kernel: name,
                message: format!("epsilon must be positive, got {}", self.epsilon),
            });
        }
        if let Some(g) = gamma {
            expect_len(name, "gamma", g, self.width)?;
        }
        Ok(())
    }

    /// A row's mean and `1 / sqrt(variance + epsilon)`, the variance from
    /// squared deviations (two passes, stable).
    fn statistics(&self, row: &[f32]) -> (f32, f32) {
        let inv_width = 1.0 / self.width as f32;
        let mean = row.iter().sum::<f32>() * inv_width;
        let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() * inv_width;
        (mean, 1.0 / (variance + self.epsilon).sqrt())
    }

    /// `x: [rows, width]` → `y: [rows, width]`.
    pub fn forward(
        &self,
        rows: usize,
        x: &[f32],
        gamma: Option<&[f32]>,
        beta: Option<&[f32]>,
        y: &mut [f32],
    ) -> Result<(), KernelError> {
        const NAME: &str = "layer_normalization";
        self.check(NAME, rows, gamma)?;
        if let Some(b) = beta {
            expect_len(NAME, "beta", b, self.width)?;
        }
        expect_len(NAME, "x", x, rows * self.width)?;
        expect_len(NAME, "y", y, rows * self.width)?;
        for (out, row) in y.chunks_exact_mut(self.width).zip(x.chunks_exact(self.width)) {
            let (mean, inv_std) = self.statistics(row);
            for (i, (o, v)) in out.iter_mut().zip(row).enumerate() {
                let scaled = (v - mean) * inv_std * gamma.map_or(1.0, |g| g[i]);
                *o = scaled + beta.map_or(0.0, |b| b[i]);
            }
        }
        Ok(())
    }

    /// Backward of [`LayerNorm::forward`]; every gradient in `grads`
    /// accumulates.
    pub fn backward(
        &self,
        rows: usize,
        x: &[f32],
        gamma: Option<&[f32]>,
        dy: &[f32],
        grads: LayerNormGrads,
    ) -> Result<(), KernelError> {
        const NAME: &str = "layer_normalization backward";
        self.check(NAME, rows, gamma)?;
        let w = self.width;
        expect_len(NAME, "x", x, rows * w)?;
        expect_len(NAME, "dy", dy, rows * w)?;
        let LayerNormGrads {
            mut dgamma,
            mut dbeta,
            mut dx,
        } = grads;
        if let Some(d) = dgamma.as_deref() {
            expect_len(NAME, "dgamma", d, w)?;
        }
        if let Some(d) = dbeta.as_deref() {
            expect_len(NAME, "dbeta", d, w)?;
        }
        if let Some(d) = dx.as_deref() {
            expect_len(NAME, "dx", d, rows * w)?;
        }
        let inv_width = 1.0 / w as f32;
        for (r, (row, g)) in x.chunks_exact(w).zip(dy.chunks_exact(w)).enumerate() {
            let (mean, inv_std) = self.statistics(row);
            let xhat = |i: usize| (row[i] - mean) * inv_std;
            if let Some(dgamma) = dgamma.as_deref_mut() {
                for i in 0..w {
                    dgamma[i] += g[i] * xhat(i);
                }
            }
            if let Some(dbeta) = dbeta.as_deref_mut() {
                dbeta.iter_mut().zip(g).for_each(|(d, g)| *d += g);
            }
            if let Some(dx) = dx.as_deref_mut() {
                // With ĝ = g·gamma: dx = inv_std · (ĝ - mean(ĝ) - x̂ · mean(ĝ·x̂)).
                let scaled = |i: usize| g[i] * gamma.map_or(1.0, |gm| gm[i]);
                let (mut sum, mut sum_xhat) = (0.0, 0.0);
                for i in 0..w {
                    sum += scaled(i);
                    sum_xhat += scaled(i) * xhat(i);
                }
                let (mean_g, mean_gx) = (sum * inv_width, sum_xhat * inv_width);
                let out = &mut dx[r * w..][..w];
                for (i, d) in out.iter_mut().enumerate() {
                    *d += inv_std * (scaled(i) - mean_g - xhat(i) * mean_gx);
                }
            }
        }
        Ok(())
    }
}
