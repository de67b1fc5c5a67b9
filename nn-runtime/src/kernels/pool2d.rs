//! Max and average pooling over NHWC tensors, channel by channel.
//!
//! Max pooling's backward finds each window's maximum again in the input
//! instead of storing argmax indices: the input is kept for backward anyway,
//! and this saves a buffer the size of the output. Ties go to the first
//! maximum in row-major window order.

use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::grad_write::GradWrite;
use crate::threads::{self, Chunks};
use crate::window::Window2d;

/// Longest output row (`out_w * channels`) the row-wise max pooling keeps
/// flags for on the stack.
const FLAT_MAX: usize = 8192;

/// Longest input row (`in_w * channels`) whose column maxima the separable
/// max pooling keeps on the stack.
const SEPARABLE_MAX: usize = 8192;

/// Which reduction a pooling layer applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolKind {
    Max,
    /// Average over the window cells inside the input (padding excluded, as
    /// Keras does).
    Average,
}

/// Static description of one pooling layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool2d {
    pub kind: PoolKind,
    pub window: Window2d,
    pub channels: usize,
}

impl Pool2d {
    pub const fn in_len(&self) -> usize {
        self.window.in_h * self.window.in_w * self.channels
    }

    pub const fn out_len(&self) -> usize {
        self.window.out_h() * self.window.out_w() * self.channels
    }

    fn check(&self, name: &'static str, batch: usize) -> Result<(), KernelError> {
        expect_nonzero(name, "batch", batch)?;
        expect_nonzero(name, "channels", self.channels)?;
        self.window.validate(name)
    }

    fn name(&self, backward: bool) -> &'static str {
        match (self.kind, backward) {
            (PoolKind::Max, false) => "max_pooling2d",
            (PoolKind::Max, true) => "max_pooling2d backward",
            (PoolKind::Average, false) => "average_pooling2d",
            (PoolKind::Average, true) => "average_pooling2d backward",
        }
    }

    /// `x: [batch, in_h, in_w, c]` → `y: [batch, out_h, out_w, c]`.
    pub fn forward(&self, batch: usize, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        let name = self.name(false);
        self.check(name, batch)?;
        expect_len(name, "x", x, batch * self.in_len())?;
        expect_len(name, "y", y, batch * self.out_len())?;
        let outputs = Chunks::new(y, self.out_len());
        threads::run(batch, &|n, _| {
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            // SAFETY: `threads::run` runs each image index once.
            let out = unsafe { outputs.get(n) };
            self.forward_image(image, out);
        });
        Ok(())
    }

    /// Max pooling with horizontal stride 1, one output row at a time: each
    /// window column is a shift of the whole `W*C` row, so the loops run
    /// over long contiguous runs whatever the channel count.
    fn flat_rows(&self) -> bool {
        self.kind == PoolKind::Max
            && self.window.stride_w == 1
            && self.window.out_w() * self.channels <= FLAT_MAX
    }

    /// For window column `kx`: the output columns that read inside the
    /// input, and the input column the first of them reads.
    fn shifted(&self, kx: usize) -> Option<(usize, usize, usize)> {
        let w = &self.window;
        let shift = kx as isize - w.pad_left() as isize;
        let lo = (-shift).max(0) as usize;
        let hi = (w.in_w as isize - shift).clamp(0, w.out_w() as isize) as usize;
        (lo < hi).then(|| (lo, hi, (lo as isize + shift) as usize))
    }

    fn forward_image_flat(&self, image: &[f32], out: &mut [f32]) {
        let (w, c) = (&self.window, self.channels);
        let row = w.out_w() * c;
        for (oy, dst) in out.chunks_exact_mut(row).enumerate() {
            let (iy0, ky_lo, ky_hi) = w.rows_for(oy);
            dst.fill(f32::NEG_INFINITY);
            for ky in ky_lo..ky_hi {
                let iy = (iy0 + ky as isize) as usize;
                let src_row = &image[iy * w.in_w * c..(iy + 1) * w.in_w * c];
                for kx in 0..w.kernel_w {
                    let Some((lo, hi, ix)) = self.shifted(kx) else {
                        continue;
                    };
                    let d = &mut dst[lo * c..hi * c];
                    let s = &src_row[ix * c..(ix + hi - lo) * c];
                    // NaN propagates, unlike f32::max.
                    d.iter_mut()
                        .zip(s)
                        .for_each(|(o, &v)| *o = if v > *o || v.is_nan() { v } else { *o });
                }
            }
        }
    }

    /// Max pooling in two passes per output row: the maximum over the
    /// window's rows for every input column (one load per input float and
    /// window row), then over the window's columns in that row of maxima,
    /// which stays in L1. Loading every window cell from the image instead
    /// stalled on memory (profiled).
    fn separable(&self) -> bool {
        self.kind == PoolKind::Max && self.window.in_w * self.channels <= SEPARABLE_MAX
    }

    fn forward_image_separable(&self, image: &[f32], out: &mut [f32]) {
        let (w, c) = (&self.window, self.channels);
        let in_row = w.in_w * c;
        let mut column_max = [0.0f32; SEPARABLE_MAX];
        let column_max = &mut column_max[..in_row];
        let row = w.out_w() * c;
        for (oy, dst) in out.chunks_exact_mut(row).enumerate() {
            let (iy0, ky_lo, ky_hi) = w.rows_for(oy);
            column_max.fill(f32::NEG_INFINITY);
            for ky in ky_lo..ky_hi {
                let iy = (iy0 + ky as isize) as usize;
                let src_row = &image[iy * in_row..(iy + 1) * in_row];
                column_max
                    .iter_mut()
                    .zip(src_row)
                    .for_each(|(o, &v)| *o = nan_max(*o, v));
            }
            dst.fill(f32::NEG_INFINITY);
            if w.stride_w == 1 {
                // Each window column is a shift of the whole row.
                for kx in 0..w.kernel_w {
                    let Some((lo, hi, ix)) = self.shifted(kx) else {
                        continue;
                    };
                    let d = &mut dst[lo * c..hi * c];
                    let s = &column_max[ix * c..(ix + hi - lo) * c];
                    d.iter_mut().zip(s).for_each(|(o, &v)| *o = nan_max(*o, v));
                }
            } else {
                for (ox, cell) in dst.chunks_exact_mut(c).enumerate() {
                    let (ix0, kx_lo, kx_hi) = w.cols_for(ox);
                    for kx in kx_lo..kx_hi {
                        let ix = (ix0 + kx as isize) as usize;
                        let s = &column_max[ix * c..(ix + 1) * c];
                        cell.iter_mut().zip(s).for_each(|(o, &v)| *o = nan_max(*o, v));
                    }
                }
            }
        }
    }

    fn forward_image(&self, image: &[f32], out: &mut [f32]) {
        if self.separable() {
            return self.forward_image_separable(image, out);
        }
        if self.flat_rows() {
            return self.forward_image_flat(image, out);
        }
        let (w, c) = (&self.window, self.channels);
        {
            let mut cells = out.chunks_exact_mut(c);
            for oy in 0..w.out_h() {
                let (iy0, ky_lo, ky_hi) = w.rows_for(oy);
                for ox in 0..w.out_w() {
                    let (ix0, kx_lo, kx_hi) = w.cols_for(ox);
                    let cell = cells.next().expect("output sized above");
                    let init = match self.kind {
                        PoolKind::Max => f32::NEG_INFINITY,
                        PoolKind::Average => 0.0,
                    };
                    cell.fill(init);
                    for ky in ky_lo..ky_hi {
                        let iy = (iy0 + ky as isize) as usize;
                        for kx in kx_lo..kx_hi {
                            let ix = (ix0 + kx as isize) as usize;
                            let src = &image[(iy * w.in_w + ix) * c..][..c];
                            match self.kind {
                                // NaN propagates, unlike f32::max.
                                PoolKind::Max => cell
                                    .iter_mut()
                                    .zip(src)
                                    .for_each(|(o, &v)| *o = if v > *o || v.is_nan() { v } else { *o }),
                                PoolKind::Average => cell.iter_mut().zip(src).for_each(|(o, &v)| *o += v),
                            }
                        }
                    }
                    if self.kind == PoolKind::Average {
                        let inv = 1.0 / ((ky_hi - ky_lo) * (kx_hi - kx_lo)) as f32;
                        cell.iter_mut().for_each(|o| *o *= inv);
                    }
                }
            }
        }
    }

    /// Backward: `dx += ` the gradient routed back through the pooling.
    /// `x` and `y` are the forward input and output.
    pub fn backward(
        &self,
        batch: usize,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) -> Result<(), KernelError> {
        self.backward_with(batch, x, y, dy, dx, GradWrite::Accumulate)
    }

    /// [`Pool2d::backward`] with `dx` written as `dx_write` says. Windows
    /// may overlap, so `Overwrite` zeroes each image's gradient inside the
    /// task that then routes into it, while it is in cache.
    pub fn backward_with(
        &self,
        batch: usize,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        dx_write: GradWrite,
    ) -> Result<(), KernelError> {
        let name = self.name(true);
        self.check(name, batch)?;
        expect_len(name, "x", x, batch * self.in_len())?;
        expect_len(name, "y", y, batch * self.out_len())?;
        expect_len(name, "dy", dy, batch * self.out_len())?;
        expect_len(name, "dx", dx, batch * self.in_len())?;
        let input_grads = Chunks::new(dx, self.in_len());
        threads::run(batch, &|n, _| {
            let image = &x[n * self.in_len()..][..self.in_len()];
            let out = &y[n * self.out_len()..][..self.out_len()];
            let dout = &dy[n * self.out_len()..][..self.out_len()];
            // SAFETY: `threads::run` runs each image index once.
            let dimage = unsafe { input_grads.get(n) };
            if dx_write == GradWrite::Overwrite {
                dimage.fill(0.0);
            }
            self.backward_image(image, out, dout, dimage);
        });
        Ok(())
    }

    /// Backward of [`Pool2d::forward_image_flat`]: window positions in
    /// row-major order, each output's gradient going to its first maximum.
    fn backward_image_flat(&self, image: &[f32], out: &[f32], dout: &[f32], dimage: &mut [f32]) {
        let (w, c) = (&self.window, self.channels);
        let row = w.out_w() * c;
        let in_row = w.in_w * c;
        let mut routed = [false; FLAT_MAX];
        for oy in 0..w.out_h() {
            let (iy0, ky_lo, ky_hi) = w.rows_for(oy);
            let targets = &out[oy * row..(oy + 1) * row];
            let grads = &dout[oy * row..(oy + 1) * row];
            routed[..row].fill(false);
            for ky in ky_lo..ky_hi {
                let iy = (iy0 + ky as isize) as usize;
                for kx in 0..w.kernel_w {
                    let Some((lo, hi, ix)) = self.shifted(kx) else {
                        continue;
                    };
                    let (a, b) = (lo * c, hi * c);
                    let start = iy * in_row + ix * c;
                    let values = &image[start..start + (b - a)];
                    let dst = &mut dimage[start..start + (b - a)];
                    // Branch-free zipped slices, so the loop vectorises.
                    let lanes = dst
                        .iter_mut()
                        .zip(values)
                        .zip(&targets[a..b])
                        .zip(&grads[a..b])
                        .zip(&mut routed[a..b]);
                    for ((((d, &v), &t), &g), r) in lanes {
                        let hit = !*r & (v == t);
                        *d += if hit { g } else { 0.0 };
                        *r |= hit;
                    }
                }
            }
        }
    }

    fn backward_image(&self, image: &[f32], out: &[f32], dout: &[f32], dimage: &mut [f32]) {
        if self.flat_rows() {
            return self.backward_image_flat(image, out, dout, dimage);
        }
        let (w, c) = (&self.window, self.channels);
        {
            for oy in 0..w.out_h() {
                let (iy0, ky_lo, ky_hi) = w.rows_for(oy);
                for ox in 0..w.out_w() {
                    let (ix0, kx_lo, kx_hi) = w.cols_for(ox);
                    let o = (oy * w.out_w() + ox) * c;
                    let at = |ky: usize, kx: usize| {
                        let iy = (iy0 + ky as isize) as usize;
                        let ix = (ix0 + kx as isize) as usize;
                        (iy * w.in_w + ix) * c
                    };
                    match self.kind {
                        PoolKind::Average => {
                            let inv = 1.0 / ((ky_hi - ky_lo) * (kx_hi - kx_lo)) as f32;
                            for ky in ky_lo..ky_hi {
                                for kx in kx_lo..kx_hi {
                                    let i = at(ky, kx);
                                    dimage[i..i + c]
                                        .iter_mut()
                                        .zip(&dout[o..o + c])
                                        .for_each(|(d, g)| *d += g * inv);
                                }
                            }
                        }
                        PoolKind::Max => {
                            // Window positions in row-major order, channels
                            // contiguous inside; `routed` marks channels whose
                            // first maximum has been found (ties go to it).
                            const BLOCK: usize = 64;
                            for c0 in (0..c).step_by(BLOCK) {
                                let width = (c - c0).min(BLOCK);
                                let mut routed = [false; BLOCK];
                                let targets = &out[o + c0..o + c0 + width];
                                let grads = &dout[o + c0..o + c0 + width];
                                for ky in ky_lo..ky_hi {
                                    for kx in kx_lo..kx_hi {
                                        let i = at(ky, kx) + c0;
                                        let values = &image[i..i + width];
                                        let dst = &mut dimage[i..i + width];
                                        // Branch-free zipped slices, so the channel loop vectorises.
                                        let lanes = dst
                                            .iter_mut()
                                            .zip(values)
                                            .zip(targets)
                                            .zip(grads)
                                            .zip(&mut routed[..width]);
                                        for ((((d, &v), &t), &g), r) in lanes {
                                            let hit = !*r & (v == t);
                                            *d += if hit { g } else { 0.0 };
                                            *r |= hit;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The larger of `o` and `v`, or `v` if it is NaN (NaN propagates, unlike
/// `f32::max`); `o` on ties.
#[inline(always)]
fn nan_max(o: f32, v: f32) -> f32 {
    if v > o || v.is_nan() {
        v
    } else {
        o
    }
}

/// Global average pooling: `[batch, h, w, c]` → `[batch, c]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalAveragePool2d {
    pub h: usize,
    pub w: usize,
    pub channels: usize,
}

impl GlobalAveragePool2d {
    fn check(&self, name: &'static str, batch: usize) -> Result<(), KernelError> {
        expect_nonzero(name, "batch", batch)?;
        expect_nonzero(name, "height", self.h)?;
        expect_nonzero(name, "width", self.w)?;
        expect_nonzero(name, "channels", self.channels)
    }

    pub fn forward(&self, batch: usize, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        const NAME: &str = "global_average_pooling2d";
        self.check(NAME, batch)?;
        let plane = self.h * self.w * self.channels;
        expect_len(NAME, "x", x, batch * plane)?;
        expect_len(NAME, "y", y, batch * self.channels)?;
        let inv = 1.0 / (self.h * self.w) as f32;
        for (image, out) in x.chunks_exact(plane).zip(y.chunks_exact_mut(self.channels)) {
            out.fill(0.0);
            for pixel in image.chunks_exact(self.channels) {
                out.iter_mut().zip(pixel).for_each(|(o, v)| *o += v);
            }
            out.iter_mut().for_each(|o| *o *= inv);
        }
        Ok(())
    }

    /// `dx += dy / (h*w)` broadcast over every pixel.
    pub fn backward(&self, batch: usize, dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
        const NAME: &str = "global_average_pooling2d backward";
        self.check(NAME, batch)?;
        let plane = self.h * self.w * self.channels;
        expect_len(NAME, "dy", dy, batch * self.channels)?;
        expect_len(NAME, "dx", dx, batch * plane)?;
        let inv = 1.0 / (self.h * self.w) as f32;
        for (dimage, g) in dx.chunks_exact_mut(plane).zip(dy.chunks_exact(self.channels)) {
            for pixel in dimage.chunks_exact_mut(self.channels) {
                pixel.iter_mut().zip(g).for_each(|(d, g)| *d += g * inv);
            }
        }
        Ok(())
    }
}

/// Global max pooling: `[batch, h, w, c]` → `[batch, c]`.
///
/// Backward finds each channel's maximum again in the input (as
/// [`Pool2d`] does); ties go to the first pixel in row-major order. A NaN
/// in a channel is its maximum, so the NaN is passed on, not hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalMaxPool2d {
    pub h: usize,
    pub w: usize,
    pub channels: usize,
}

impl GlobalMaxPool2d {
    fn check(&self, name: &'static str, batch: usize) -> Result<(), KernelError> {
        expect_nonzero(name, "batch", batch)?;
        expect_nonzero(name, "height", self.h)?;
        expect_nonzero(name, "width", self.w)?;
        expect_nonzero(name, "channels", self.channels)
    }

    const fn plane(&self) -> usize {
        self.h * self.w * self.channels
    }

    pub fn forward(&self, batch: usize, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        const NAME: &str = "global_max_pooling2d";
        self.check(NAME, batch)?;
        expect_len(NAME, "x", x, batch * self.plane())?;
        expect_len(NAME, "y", y, batch * self.channels)?;
        for (image, out) in x
            .chunks_exact(self.plane())
            .zip(y.chunks_exact_mut(self.channels))
        {
            out.fill(f32::NEG_INFINITY);
            for pixel in image.chunks_exact(self.channels) {
                // NaN propagates, unlike f32::max.
                out.iter_mut()
                    .zip(pixel)
                    .for_each(|(o, &v)| *o = if v > *o || v.is_nan() { v } else { *o });
            }
        }
        Ok(())
    }

    /// `dx += dy` at each channel's first maximum; `x` and `y` are the
    /// forward input and output.
    pub fn backward(
        &self,
        batch: usize,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) -> Result<(), KernelError> {
        const NAME: &str = "global_max_pooling2d backward";
        self.check(NAME, batch)?;
        let (plane, c) = (self.plane(), self.channels);
        expect_len(NAME, "x", x, batch * plane)?;
        expect_len(NAME, "y", y, batch * c)?;
        expect_len(NAME, "dy", dy, batch * c)?;
        expect_len(NAME, "dx", dx, batch * plane)?;
        let images = x.chunks_exact(plane).zip(dx.chunks_exact_mut(plane));
        for (n, (image, dimage)) in images.enumerate() {
            let (maxima, grads) = (&y[n * c..][..c], &dy[n * c..][..c]);
            for ch in 0..c {
                // NaN == NaN is false, so a NaN maximum is found by is_nan.
                let target = maxima[ch];
                let first = (0..self.h * self.w).find(|&p| {
                    let v = image[p * c + ch];
                    v == target || (target.is_nan() && v.is_nan())
                });
                if let Some(p) = first {
                    dimage[p * c + ch] += grads[ch];
                }
            }
        }
        Ok(())
    }
}
