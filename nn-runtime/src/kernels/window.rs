//! Sliding-window geometry shared by convolution and pooling: output sizes
//! and padding under Keras's (TensorFlow's) `valid` and `same` rules.

use crate::error::{expect_nonzero, KernelError};

pub use nn_vocab::padding::{output_len, pad_before, Padding};

/// A 2-D window sliding over an `in_h x in_w` plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window2d {
    pub in_h: usize,
    pub in_w: usize,
    pub kernel_h: usize,
    pub kernel_w: usize,
    pub stride_h: usize,
    pub stride_w: usize,
    pub padding: Padding,
}

impl Window2d {
    /// Output height; 0 if the geometry is invalid (see [`Window2d::validate`]).
    pub const fn out_h(&self) -> usize {
        match output_len(self.in_h, self.kernel_h, self.stride_h, self.padding) {
            Some(v) => v,
            None => 0,
        }
    }

    /// Output width; 0 if the geometry is invalid.
    pub const fn out_w(&self) -> usize {
        match output_len(self.in_w, self.kernel_w, self.stride_w, self.padding) {
            Some(v) => v,
            None => 0,
        }
    }

    pub const fn pad_top(&self) -> usize {
        pad_before(self.in_h, self.kernel_h, self.stride_h, self.padding)
    }

    pub const fn pad_left(&self) -> usize {
        pad_before(self.in_w, self.kernel_w, self.stride_w, self.padding)
    }

    /// Rejects zero sizes and windows larger than a `valid` input.
    pub fn validate(&self, kernel: &'static str) -> Result<(), KernelError> {
        expect_nonzero(kernel, "input height", self.in_h)?;
        expect_nonzero(kernel, "input width", self.in_w)?;
        expect_nonzero(kernel, "window height", self.kernel_h)?;
        expect_nonzero(kernel, "window width", self.kernel_w)?;
        expect_nonzero(kernel, "vertical stride", self.stride_h)?;
        expect_nonzero(kernel, "horizontal stride", self.stride_w)?;
        if self.out_h() == 0 || self.out_w() == 0 {
            return Err(KernelError::WindowTooLarge {
                kernel,
                window: (self.kernel_h, self.kernel_w),
                input: (self.in_h, self.in_w),
            });
        }
        Ok(())
    }

    /// The input rows `[lo, hi)` of the window's row `ky` range that output
    /// row `oy` covers, clipped to the input, as window offsets: returns
    /// `(first_input_row_or_negative, ky_lo, ky_hi)`.
    #[inline]
    pub(crate) fn rows_for(&self, oy: usize) -> (isize, usize, usize) {
        clip(oy, self.stride_h, self.pad_top(), self.kernel_h, self.in_h)
    }

    /// Same as [`Window2d::rows_for`] for columns.
    #[inline]
    pub(crate) fn cols_for(&self, ox: usize) -> (isize, usize, usize) {
        clip(ox, self.stride_w, self.pad_left(), self.kernel_w, self.in_w)
    }
}

/// For output index `o`, the first input index the window starts at (may be
/// negative inside padding) and the range of window offsets that land inside
/// the input.
#[inline]
fn clip(o: usize, stride: usize, pad: usize, window: usize, input: usize) -> (isize, usize, usize) {
    let start = (o * stride) as isize - pad as isize;
    let lo = (-start).max(0) as usize;
    let hi = ((input as isize - start).max(0) as usize).min(window);
    (start, lo.min(hi), hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_matches_tensorflow_rule() {
        // in 5, k 3, s 2: out 3, total pad (3-1)*2+3-5 = 2 -> 1 before.
        assert_eq!(output_len(5, 3, 2, Padding::Same), Some(3));
        assert_eq!(pad_before(5, 3, 2, Padding::Same), 1);
        // in 4, k 3, s 2: out 2, total pad (2-1)*2+3-4 = 1 -> 0 before, 1 after.
        assert_eq!(pad_before(4, 3, 2, Padding::Same), 0);
        // in 64, k 2, s 2: no padding needed.
        assert_eq!(pad_before(64, 2, 2, Padding::Same), 0);
    }

    #[test]
    fn valid_padding_output_sizes() {
        assert_eq!(output_len(64, 3, 2, Padding::Valid), Some(31));
        assert_eq!(output_len(2, 3, 1, Padding::Valid), None);
        assert_eq!(output_len(3, 3, 1, Padding::Valid), Some(1));
    }
}
