//! Keras's `ZeroPadding2D`: zero rows above and below, zero columns left and
//! right of every image (NHWC); backward takes the gradient of the interior.

use crate::error::{expect_len, expect_nonzero, KernelError};

/// Padding of `[in_h, in_w, channels]` images, in rows and columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZeroPadding2d {
    pub in_h: usize,
    pub in_w: usize,
    pub channels: usize,
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

impl ZeroPadding2d {
    pub const fn out_h(&self) -> usize {
        self.top + self.in_h + self.bottom
    }

    pub const fn out_w(&self) -> usize {
        self.left + self.in_w + self.right
    }

    fn check(&self, kernel: &'static str, n: usize, inner: &[f32], outer: &[f32]) -> Result<(), KernelError> {
        expect_nonzero(kernel, "batch", n)?;
        expect_nonzero(kernel, "height", self.in_h)?;
        expect_nonzero(kernel, "width", self.in_w)?;
        expect_nonzero(kernel, "channels", self.channels)?;
        expect_len(kernel, "input", inner, n * self.in_h * self.in_w * self.channels)?;
        expect_len(
            kernel,
            "output",
            outer,
            n * self.out_h() * self.out_w() * self.channels,
        )
    }

    /// Row `r` of the input inside the padded output, per image.
    fn interior_rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (c, ow) = (self.channels, self.out_w());
        (0..self.in_h).map(move |r| (r * self.in_w * c, ((r + self.top) * ow + self.left) * c))
    }

    /// `y`: the padded images.
    pub fn forward(&self, n: usize, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        self.check("zero padding", n, x, y)?;
        let row = self.in_w * self.channels;
        let (in_len, out_len) = (self.in_h * row, self.out_h() * self.out_w() * self.channels);
        for (xi, yi) in x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len)) {
            yi.fill(0.0);
            for (from, to) in self.interior_rows() {
                yi[to..to + row].copy_from_slice(&xi[from..from + row]);
            }
        }
        Ok(())
    }

    /// `dx += dy` over the interior (the zeros have no input).
    pub fn backward(&self, n: usize, dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
        self.check("zero padding backward", n, dx, dy)?;
        let row = self.in_w * self.channels;
        let (in_len, out_len) = (self.in_h * row, self.out_h() * self.out_w() * self.channels);
        for (di, gi) in dx.chunks_exact_mut(in_len).zip(dy.chunks_exact(out_len)) {
            for (at, from) in self.interior_rows() {
                di[at..at + row]
                    .iter_mut()
                    .zip(&gi[from..from + row])
                    .for_each(|(d, g)| *d += g);
            }
        }
        Ok(())
    }
}
