//! Keras's `Cropping2D`: drops rows above and below and columns left and
//! right of every image (NHWC); backward puts the gradient back where the
//! kept pixels were (the cropped ones get none).

use crate::error::{expect_len, expect_nonzero, KernelError};

/// Cropping of `[in_h, in_w, channels]` images, in rows and columns; what
/// is cropped leaves at least one row and one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cropping2d {
    pub in_h: usize,
    pub in_w: usize,
    pub channels: usize,
    pub top: usize,
    pub bottom: usize,
    pub left: usize,
    pub right: usize,
}

impl Cropping2d {
    pub const fn out_h(&self) -> usize {
        self.in_h.saturating_sub(self.top + self.bottom)
    }

    pub const fn out_w(&self) -> usize {
        self.in_w.saturating_sub(self.left + self.right)
    }

    fn check(&self, kernel: &'static str, n: usize, outer: &[f32], inner: &[f32]) -> Result<(), KernelError> {
        expect_nonzero(kernel, "batch", n)?;
        expect_nonzero(kernel, "channels", self.channels)?;
        if self.top + self.bottom >= self.in_h || self.left + self.right >= self.in_w {
            return Err(KernelError::InvalidArgument {
                kernel,
                message: format!(
                    "cropping {}+{} rows and {}+{} columns of a {}x{} image leaves nothing",
                    self.top, self.bottom, self.left, self.right, self.in_h, self.in_w
                ),
            });
        }
        expect_len(kernel, "input", outer, n * self.in_h * self.in_w * self.channels)?;
        expect_len(
            kernel,
            "output",
            inner,
            n * self.out_h() * self.out_w() * self.channels,
        )
    }

    /// Per kept row: its offset in the output and in the input, per image.
    fn kept_rows(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let c = self.channels;
        (0..self.out_h()).map(move |r| (r * self.out_w() * c, ((r + self.top) * self.in_w + self.left) * c))
    }

    /// `y`: the cropped images.
    pub fn forward(&self, n: usize, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        self.check("cropping", n, x, y)?;
        let row = self.out_w() * self.channels;
        let (in_len, out_len) = (self.in_h * self.in_w * self.channels, self.out_h() * row);
        for (xi, yi) in x.chunks_exact(in_len).zip(y.chunks_exact_mut(out_len)) {
            for (to, from) in self.kept_rows() {
                yi[to..to + row].copy_from_slice(&xi[from..from + row]);
            }
        }
        Ok(())
    }

    /// `dx += dy` where the kept pixels were.
    pub fn backward(&self, n: usize, dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
        self.check("cropping backward", n, dx, dy)?;
        let row = self.out_w() * self.channels;
        let (in_len, out_len) = (self.in_h * self.in_w * self.channels, self.out_h() * row);
        for (di, gi) in dx.chunks_exact_mut(in_len).zip(dy.chunks_exact(out_len)) {
            for (from, at) in self.kept_rows() {
                di[at..at + row]
                    .iter_mut()
                    .zip(&gi[from..from + row])
                    .for_each(|(d, g)| *d += g);
            }
        }
        Ok(())
    }
}
