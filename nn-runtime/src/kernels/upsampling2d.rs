//! Keras's `UpSampling2D`: each image made `size_h` times taller and
//! `size_w` times wider (NHWC), by repeating pixels (`nearest`) or by
//! bilinear interpolation (`bilinear`).
//!
//! Bilinear follows Keras 3 (`ops.image.resize`): half-pixel centres, no
//! antialiasing, coordinates outside the image clamped to its edge, so
//! output pixel `o` reads source coordinate `(o + 0.5) / size - 0.5`.

use crate::error::{expect_len, expect_nonzero, KernelError};

/// How new pixels get their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    Nearest,
    Bilinear,
}

impl Interpolation {
    /// Keras's name for it.
    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Nearest => "nearest",
            Interpolation::Bilinear => "bilinear",
        }
    }
}

/// Up-sampling of `[in_h, in_w, channels]` images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpSampling2d {
    pub in_h: usize,
    pub in_w: usize,
    pub channels: usize,
    pub size_h: usize,
    pub size_w: usize,
    pub interpolation: Interpolation,
}

/// The two source indices an output coordinate reads and the weight of the
/// second (the first gets `1 - weight`).
#[derive(Debug, Clone, Copy)]
struct Taps {
    lo: usize,
    hi: usize,
    weight: f32,
}

fn taps(out: usize, size: usize, len: usize, interpolation: Interpolation) -> Taps {
    match interpolation {
        Interpolation::Nearest => Taps {
            lo: out / size,
            hi: out / size,
            weight: 0.0,
        },
        Interpolation::Bilinear => {
            let source = ((out as f32 + 0.5) / size as f32 - 0.5).max(0.0);
            let lo = (source.floor() as usize).min(len - 1);
            let hi = (lo + 1).min(len - 1);
            Taps {
                lo,
                hi,
                weight: source - lo as f32,
            }
        }
    }
}

impl UpSampling2d {
    pub const fn out_h(&self) -> usize {
        self.in_h * self.size_h
    }

    pub const fn out_w(&self) -> usize {
        self.in_w * self.size_w
    }

    fn check(&self, kernel: &'static str, n: usize, inner: &[f32], outer: &[f32]) -> Result<(), KernelError> {
        expect_nonzero(kernel, "batch", n)?;
        expect_nonzero(kernel, "height", self.in_h)?;
        expect_nonzero(kernel, "width", self.in_w)?;
        expect_nonzero(kernel, "channels", self.channels)?;
        expect_nonzero(kernel, "size (rows)", self.size_h)?;
        expect_nonzero(kernel, "size (columns)", self.size_w)?;
        expect_len(kernel, "input", inner, n * self.in_h * self.in_w * self.channels)?;
        expect_len(
            kernel,
            "output",
            outer,
            n * self.out_h() * self.out_w() * self.channels,
        )
    }

    /// Calls `visit(output pixel, input pixel, weight)` for every input
    /// pixel an output pixel of one image reads (pixel indices, not floats).
    fn for_each_tap(&self, mut visit: impl FnMut(usize, usize, f32)) {
        let (ow, iw) = (self.out_w(), self.in_w);
        for oy in 0..self.out_h() {
            let r = taps(oy, self.size_h, self.in_h, self.interpolation);
            for ox in 0..ow {
                let c = taps(ox, self.size_w, self.in_w, self.interpolation);
                let out = oy * ow + ox;
                if self.interpolation == Interpolation::Nearest {
                    visit(out, r.lo * iw + c.lo, 1.0);
                    continue;
                }
                visit(out, r.lo * iw + c.lo, (1.0 - r.weight) * (1.0 - c.weight));
                visit(out, r.lo * iw + c.hi, (1.0 - r.weight) * c.weight);
                visit(out, r.hi * iw + c.lo, r.weight * (1.0 - c.weight));
                visit(out, r.hi * iw + c.hi, r.weight * c.weight);
            }
        }
    }

    /// `y`: the up-sampled images.
    pub fn forward(&self, n: usize, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        self.check("up_sampling2d", n, x, y)?;
        let c = self.channels;
        let (in_len, out_len) = (self.in_h * self.in_w * c, self.out_h() * self.out_w() * c);
        for (xi, yi) in x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len)) {
            yi.fill(0.0);
            self.for_each_tap(|out, input, weight| {
                let (dst, src) = (&mut yi[out * c..][..c], &xi[input * c..][..c]);
                if self.interpolation == Interpolation::Nearest {
                    dst.copy_from_slice(src);
                } else {
                    dst.iter_mut().zip(src).for_each(|(d, s)| *d += weight * s);
                }
            });
        }
        Ok(())
    }

    /// `dx +=` the output gradient sent back along the same weights.
    pub fn backward(&self, n: usize, dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
        self.check("up_sampling2d backward", n, dx, dy)?;
        let c = self.channels;
        let (in_len, out_len) = (self.in_h * self.in_w * c, self.out_h() * self.out_w() * c);
        for (di, gi) in dx.chunks_exact_mut(in_len).zip(dy.chunks_exact(out_len)) {
            self.for_each_tap(|out, input, weight| {
                let (dst, src) = (&mut di[input * c..][..c], &gi[out * c..][..c]);
                dst.iter_mut().zip(src).for_each(|(d, g)| *d += weight * g);
            });
        }
        Ok(())
    }
}
