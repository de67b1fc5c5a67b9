//! Batch normalization over the last axis, with Keras's defaults
//! (momentum 0.99, epsilon 1e-3).
//!
//! Training mode normalises with the batch's own mean and (biased) variance
//! and moves the running statistics toward them:
//! `moving = momentum * moving + (1 - momentum) * batch`, as Keras 3 does.
//! Inference mode uses the running statistics.
//!
//! `gamma` and `beta` are optional, as Keras's `scale=False` and
//! `center=False` drop them: an absent `gamma` scales by 1, an absent `beta`
//! shifts by 0, and neither gets a gradient.

use std::ops::Range;

use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::threads::{self, SharedSlice};
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
    /// `None` for `scale=False`.
    pub gamma: Option<&'a [f32]>,
    /// `None` for `center=False`.
    pub beta: Option<&'a [f32]>,
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

    pub(crate) fn check(
        &self,
        name: &'static str,
        rows: usize,
        p: &BatchNormParams,
    ) -> Result<(), KernelError> {
        expect_nonzero(name, "rows", rows)?;
        expect_nonzero(name, "channels", self.channels)?;
        if let Some(gamma) = p.gamma {
            expect_len(name, "gamma", gamma, self.channels)?;
        }
        if let Some(beta) = p.beta {
            expect_len(name, "beta", beta, self.channels)?;
        }
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
        let (mean, var) = saved.split_at_mut(c);
        // Each channel's sums run over the rows in order, whichever thread
        // takes the channel: results do not depend on the thread count.
        let (means, vars) = (SharedSlice::new(mean), SharedSlice::new(var));
        for_channel_groups(rows, c, &|channels| {
            // SAFETY: channel groups are disjoint, each run once.
            let (mean, var) = unsafe { (means.range(channels.clone()), vars.range(channels.clone())) };
            mean.fill(0.0);
            for row in x.chunks_exact(c) {
                mean.iter_mut()
                    .zip(&row[channels.clone()])
                    .for_each(|(m, v)| *m += v);
            }
            let inv_rows = 1.0 / rows as f32;
            mean.iter_mut().for_each(|m| *m *= inv_rows);
            // Two passes (mean, then squared deviations) for a stable variance.
            var.fill(0.0);
            for row in x.chunks_exact(c) {
                for ((s, v), m) in var.iter_mut().zip(&row[channels.clone()]).zip(mean.iter()) {
                    let d = v - m;
                    *s += d * d;
                }
            }
            var.iter_mut().for_each(|s| *s *= inv_rows);
        });
        for ch in 0..c {
            params.moving_mean[ch] =
                self.momentum * params.moving_mean[ch] + (1.0 - self.momentum) * mean[ch];
            params.moving_variance[ch] =
                self.momentum * params.moving_variance[ch] + (1.0 - self.momentum) * var[ch];
        }
        var.iter_mut().for_each(|s| *s = 1.0 / (*s + self.epsilon).sqrt());
        let (mean, inv_std) = (&*mean, &*var);
        let gamma = params.gamma;
        normalize(
            x,
            y,
            c,
            mean,
            &|ch| scale_at(gamma, ch) * inv_std[ch],
            params.beta,
        );
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
        let (gamma, variance, epsilon) = (params.gamma, &*params.moving_variance, self.epsilon);
        let scale = |ch: usize| scale_at(gamma, ch) / (variance[ch] + epsilon).sqrt();
        normalize(x, y, c, params.moving_mean, &scale, params.beta);
        Ok(())
    }

    /// Backward of [`BatchNorm::forward_train`]. `dgamma`, `dbeta` and `dx`
    /// accumulate; each is `None` when the layer lacks it.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_train(
        &self,
        rows: usize,
        x: &[f32],
        gamma: Option<&[f32]>,
        saved: &[f32],
        dy: &[f32],
        dgamma: Option<&mut [f32]>,
        dbeta: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "batch_normalization backward";
        let c = self.channels;
        expect_nonzero(NAME, "rows", rows)?;
        expect_nonzero(NAME, "channels", c)?;
        expect_len(NAME, "x", x, rows * c)?;
        expect_len(NAME, "saved", saved, 2 * c)?;
        expect_len(NAME, "dy", dy, rows * c)?;
        check_optional(NAME, c, gamma, dgamma.as_deref(), dbeta.as_deref())?;
        let (mean, inv_std) = saved.split_at(c);
        let (sum_dy, sum_dy_xhat) = ws.take2(c, c);
        let (sums, sums_xhat) = (SharedSlice::new(sum_dy), SharedSlice::new(sum_dy_xhat));
        for_channel_groups(rows, c, &|channels| {
            // SAFETY: channel groups are disjoint, each run once.
            let (sum_dy, sum_dy_xhat) =
                unsafe { (sums.range(channels.clone()), sums_xhat.range(channels.clone())) };
            sum_dy.fill(0.0);
            sum_dy_xhat.fill(0.0);
            let (mean, inv_std) = (&mean[channels.clone()], &inv_std[channels.clone()]);
            for (row, g) in x.chunks_exact(c).zip(dy.chunks_exact(c)) {
                let values = row[channels.clone()].iter().zip(&g[channels.clone()]);
                let sums = sum_dy.iter_mut().zip(sum_dy_xhat.iter_mut());
                for (((sum, sum_xhat), (&v, &g)), (&m, &s)) in sums.zip(values).zip(mean.iter().zip(inv_std))
                {
                    let xhat = (v - m) * s;
                    *sum += g;
                    *sum_xhat += g * xhat;
                }
            }
        });
        let (sum_dy, sum_dy_xhat) = (&*sum_dy, &*sum_dy_xhat);
        if let Some(dgamma) = dgamma {
            dgamma.iter_mut().zip(sum_dy_xhat).for_each(|(d, s)| *d += s);
        }
        if let Some(dbeta) = dbeta {
            dbeta.iter_mut().zip(sum_dy).for_each(|(d, s)| *d += s);
        }
        if let Some(dx) = dx {
            expect_len(NAME, "dx", dx, rows * c)?;
            let inv_rows = 1.0 / rows as f32;
            let grads = SharedSlice::new(dx);
            threads::for_ranges(rows * c, c, &|_, range| {
                // SAFETY: `for_ranges` hands out disjoint ranges.
                let dx = unsafe { grads.range(range.clone()) };
                let mut scale = [0.0f32; CHANNEL_BLOCK];
                for first in (0..c).step_by(CHANNEL_BLOCK) {
                    let block = first..(first + CHANNEL_BLOCK).min(c);
                    let scale = &mut scale[..block.len()];
                    for (s, ch) in scale.iter_mut().zip(block.clone()) {
                        *s = scale_at(gamma, ch) * inv_std[ch];
                    }
                    let (mean, inv_std) = (&mean[block.clone()], &inv_std[block.clone()]);
                    let sums = sum_dy[block.clone()].iter().zip(&sum_dy_xhat[block.clone()]);
                    for ((d, row), g) in dx
                        .chunks_exact_mut(c)
                        .zip(x[range.clone()].chunks_exact(c))
                        .zip(dy[range.clone()].chunks_exact(c))
                    {
                        let values = d[block.clone()]
                            .iter_mut()
                            .zip(&row[block.clone()])
                            .zip(&g[block.clone()]);
                        let channel = mean.iter().zip(inv_std).zip(sums.clone()).zip(scale.iter());
                        for (((d, &v), &g), (((&m, &s), (&sum, &sum_xhat)), &k)) in values.zip(channel) {
                            let xhat = (v - m) * s;
                            let centred = g - inv_rows * (sum + xhat * sum_xhat);
                            *d += k * centred;
                        }
                    }
                }
            });
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
        mut dgamma: Option<&mut [f32]>,
        mut dbeta: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
    ) -> Result<(), KernelError> {
        const NAME: &str = "batch_normalization backward";
        self.check(NAME, rows, &params)?;
        let c = self.channels;
        expect_len(NAME, "x", x, rows * c)?;
        expect_len(NAME, "dy", dy, rows * c)?;
        check_optional(NAME, c, params.gamma, dgamma.as_deref(), dbeta.as_deref())?;
        for (row, g) in x.chunks_exact(c).zip(dy.chunks_exact(c)) {
            for ch in 0..c {
                let inv_std = 1.0 / (params.moving_variance[ch] + self.epsilon).sqrt();
                if let Some(dgamma) = dgamma.as_deref_mut() {
                    dgamma[ch] += g[ch] * (row[ch] - params.moving_mean[ch]) * inv_std;
                }
                if let Some(dbeta) = dbeta.as_deref_mut() {
                    dbeta[ch] += g[ch];
                }
            }
        }
        if let Some(dx) = dx {
            expect_len(NAME, "dx", dx, rows * c)?;
            for (d, g) in dx.chunks_exact_mut(c).zip(dy.chunks_exact(c)) {
                for ch in 0..c {
                    let inv_std = 1.0 / (params.moving_variance[ch] + self.epsilon).sqrt();
                    d[ch] += g[ch] * scale_at(params.gamma, ch) * inv_std;
                }
            }
        }
        Ok(())
    }
}

/// Channels whose inference scale is computed at once (a stack array).
const CHANNEL_BLOCK: usize = 256;

/// Channels per cache line: channel groups split at multiples of it, so two
/// threads never write the same line of the per-channel sums.
const LINE: usize = 16;

/// Runs `f` on groups of channels in parallel when the tensor is large
/// enough (each group reads every row, only its own channels).
fn for_channel_groups(rows: usize, channels: usize, f: &(dyn Fn(Range<usize>) + Sync)) {
    let groups = threads::current()
        .min(channels.div_ceil(LINE))
        .min((rows * channels) / PARALLEL_ELEMENTS)
        .max(1);
    if groups == 1 {
        f(0..channels);
        return;
    }
    let width = channels.div_ceil(groups).div_ceil(LINE) * LINE;
    let groups = channels.div_ceil(width);
    threads::run(groups, &|i, _| f(i * width..((i + 1) * width).min(channels)));
}

/// Elements below which a channel split costs more than it saves.
const PARALLEL_ELEMENTS: usize = 1 << 16;

/// `y = (x - mean) * scale + beta` per channel, rows split over threads;
/// `scale(ch)` is computed once per block of channels, not per value.
fn normalize(
    x: &[f32],
    y: &mut [f32],
    c: usize,
    mean: &[f32],
    scale: &(dyn Fn(usize) -> f32 + Sync),
    beta: Option<&[f32]>,
) {
    for_row_ranges(x, y, c, &|x, y| {
        let (mut scales, mut shifts) = ([0.0f32; CHANNEL_BLOCK], [0.0f32; CHANNEL_BLOCK]);
        for first in (0..c).step_by(CHANNEL_BLOCK) {
            let block = first..(first + CHANNEL_BLOCK).min(c);
            let (scales, shifts) = (&mut scales[..block.len()], &mut shifts[..block.len()]);
            for ((s, b), ch) in scales.iter_mut().zip(shifts.iter_mut()).zip(block.clone()) {
                *s = scale(ch);
                *b = shift_at(beta, ch);
            }
            let channel = mean[block.clone()].iter().zip(scales.iter()).zip(shifts.iter());
            for (out, row) in y.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
                let values = out[block.clone()].iter_mut().zip(&row[block.clone()]);
                for ((o, &v), ((&m, &s), &b)) in values.zip(channel.clone()) {
                    *o = (v - m) * s + b;
                }
            }
        }
    });
}

/// Runs `f(x rows, y rows)` over pieces of whole rows in parallel.
fn for_row_ranges(x: &[f32], y: &mut [f32], c: usize, f: &(dyn Fn(&[f32], &mut [f32]) + Sync)) {
    let outputs = SharedSlice::new(y);
    threads::for_ranges(x.len(), c, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let y = unsafe { outputs.range(range.clone()) };
        f(&x[range], y)
    });
}

/// `gamma[ch]`, or 1 without `gamma`.
#[inline]
fn scale_at(gamma: Option<&[f32]>, ch: usize) -> f32 {
    gamma.map_or(1.0, |g| g[ch])
}

/// `beta[ch]`, or 0 without `beta`.
#[inline]
fn shift_at(beta: Option<&[f32]>, ch: usize) -> f32 {
    beta.map_or(0.0, |b| b[ch])
}

/// The optional parameters and gradients are `[channels]` long.
fn check_optional(
    name: &'static str,
    channels: usize,
    gamma: Option<&[f32]>,
    dgamma: Option<&[f32]>,
    dbeta: Option<&[f32]>,
) -> Result<(), KernelError> {
    for (what, buffer) in [("gamma", gamma), ("dgamma", dgamma), ("dbeta", dbeta)] {
        if let Some(buffer) = buffer {
            expect_len(name, what, buffer, channels)?;
        }
    }
    Ok(())
}
