//! One spatial axis of a general convolution: dilation and padding given
//! explicitly, so Keras's `valid`, `same` and `causal` rules and the
//! transposed convolution's output-size rule all become one description.
//!
//! Output index `o` reads input indices `o * stride + t * dilation - pad_before`
//! for kernel taps `t < kernel`; indices outside the input read zeros.

use crate::padding::Padding;
use crate::rust_source::{RustSource, ToRust};

/// Sizes, stride, dilation and leading padding along one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvAxis {
    pub input: usize,
    pub kernel: usize,
    pub stride: usize,
    pub dilation: usize,
    /// Zeros before the first input element.
    pub pad_before: usize,
    pub output: usize,
}

impl ConvAxis {
    /// The axis of a layer without that axis (a Conv1D's single row).
    pub const fn single() -> Self {
        ConvAxis {
            input: 1,
            kernel: 1,
            stride: 1,
            dilation: 1,
            pad_before: 0,
            output: 1,
        }
    }

    /// Keras's `valid` or `same` rule with a dilated kernel (TensorFlow's
    /// rule: `same` puts the odd padding element after). `None` when a size
    /// is zero or the dilated kernel is larger than a `valid` input.
    pub fn new(
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
    ) -> Option<Self> {
        if input == 0 || kernel == 0 || stride == 0 || dilation == 0 {
            return None;
        }
        let span = (kernel - 1).checked_mul(dilation)?.checked_add(1)?;
        let (output, pad_before) = match padding {
            Padding::Valid => (input.checked_sub(span)? / stride + 1, 0),
            Padding::Same => {
                let output = input.div_ceil(stride);
                // Checked: a huge kernel is a `None`, not an overflow.
                let total = ((output - 1).checked_mul(stride)?.checked_add(span)?).saturating_sub(input);
                (output, total / 2)
            }
        };
        Some(ConvAxis {
            input,
            kernel,
            stride,
            dilation,
            pad_before,
            output,
        })
    }

    /// Keras's `causal` padding (Conv1D): all `(kernel - 1) * dilation`
    /// zeros before the input, so output `o` sees no input after `o * stride`.
    pub fn causal(input: usize, kernel: usize, stride: usize, dilation: usize) -> Option<Self> {
        if input == 0 || kernel == 0 || stride == 0 || dilation == 0 {
            return None;
        }
        let pad_before = (kernel - 1).checked_mul(dilation)?;
        Some(ConvAxis {
            input,
            kernel,
            stride,
            dilation,
            pad_before,
            output: (input - 1) / stride + 1,
        })
    }

    /// The forward convolution whose input gradient a Keras
    /// `Conv2DTranspose` axis computes: its `input` is the transposed
    /// layer's output length and its `output` the transposed layer's input
    /// length `input`. The output length follows Keras: `valid` gives
    /// `(input - 1) * stride + max(span, stride)`, `same` gives
    /// `input * stride`, and an `output_padding` gives
    /// `(input - 1) * stride + span - 2 * pad + output_padding` with
    /// `pad = span / 2` for `same`, 0 for `valid` (as the JAX backend pads).
    /// `None` when a size is zero or the output would be empty.
    pub fn transposed(
        input: usize,
        kernel: usize,
        stride: usize,
        dilation: usize,
        padding: Padding,
        output_padding: Option<usize>,
    ) -> Option<Self> {
        if input == 0 || kernel == 0 || stride == 0 || dilation == 0 {
            return None;
        }
        let span = (kernel - 1).checked_mul(dilation)?.checked_add(1)?;
        // Padding of the zero-dilated input before a stride-1 correlation
        // with the flipped kernel; `span - 1 - left` is then how many
        // elements of the full transposed output are cropped at the start.
        let (left, right) = match padding {
            Padding::Valid => {
                let extra = output_padding.unwrap_or(span.max(stride) - span);
                (span - 1, (span - 1).checked_add(extra)?)
            }
            Padding::Same => {
                let total = match output_padding {
                    None => stride.checked_add(span)? - 2,
                    Some(extra) => (span + span % 2 - 2).checked_add(extra)?,
                };
                let left = (total / 2 + total % 2).min(span - 1);
                (left, total - left)
            }
        };
        let full = (input - 1)
            .checked_mul(stride)?
            .checked_add(left.checked_add(right)?.checked_add(1)?)?;
        let output_len = full.checked_add(1)?.checked_sub(span).filter(|&n| n > 0)?;
        Some(ConvAxis {
            input: output_len,
            kernel,
            stride,
            dilation,
            pad_before: span - 1 - left,
            output: input,
        })
    }

    /// Extent of the dilated kernel: `(kernel - 1) * dilation + 1`.
    pub const fn span(&self) -> usize {
        (self.kernel - 1) * self.dilation + 1
    }

    /// Length of the zero-padded input that holds every window.
    pub const fn padded_len(&self) -> usize {
        (self.output - 1) * self.stride + self.span()
    }

    /// Whether the fields fit together (a hand-built description may not):
    /// no size is zero, every window starts inside the padded input and
    /// touches at most `span - 1` leading zeros, and nothing overflows.
    pub fn check(&self) -> Result<(), String> {
        let sizes = [
            ("input length", self.input),
            ("kernel size", self.kernel),
            ("stride", self.stride),
            ("dilation rate", self.dilation),
            ("output length", self.output),
        ];
        if let Some((what, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{what} is zero; every size must be at least 1"));
        }
        let padded = (self.kernel - 1)
            .checked_mul(self.dilation)
            .and_then(|s| (self.output - 1).checked_mul(self.stride)?.checked_add(s + 1));
        let fits = padded.is_some()
            && self.pad_before < self.span()
            && (self.output - 1) * self.stride < self.pad_before.saturating_add(self.input);
        if !fits {
            return Err(format!(
                "{} outputs of a kernel {} (dilation {}, stride {}) with {} leading zeros do not fit an input of {}",
                self.output, self.kernel, self.dilation, self.stride, self.pad_before, self.input
            ));
        }
        Ok(())
    }
}

impl ToRust for ConvAxis {
    fn write_rust(&self, out: &mut RustSource) {
        let ConvAxis {
            input,
            kernel,
            stride,
            dilation,
            pad_before,
            output,
        } = self;
        out.path("ConvAxis");
        out.fields(&[
            ("input", input),
            ("kernel", kernel),
            ("stride", stride),
            ("dilation", dilation),
            ("pad_before", pad_before),
            ("output", output),
        ]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dilated_same_padding_uses_the_dilated_span() {
        // k 3, d 2: span 5; in 7, s 1: out 7, total pad 4 -> 2 before.
        let a = ConvAxis::new(7, 3, 1, 2, Padding::Same).unwrap();
        assert_eq!((a.output, a.pad_before), (7, 2));
        let v = ConvAxis::new(7, 3, 1, 2, Padding::Valid).unwrap();
        assert_eq!(v.output, 3);
        assert!(ConvAxis::new(4, 3, 1, 2, Padding::Valid).is_none());
    }

    #[test]
    fn huge_kernels_are_none_not_an_overflow() {
        let huge = usize::MAX / 2;
        for padding in [Padding::Same, Padding::Valid] {
            assert!(ConvAxis::new(32, huge, 1, 2, padding).is_none());
            assert!(ConvAxis::transposed(32, huge, 1, 2, padding, None).is_none());
            assert!(ConvAxis::transposed(32, 3, usize::MAX, 1, padding, Some(1)).is_none());
        }
        assert!(ConvAxis::transposed(usize::MAX, 3, 2, 1, Padding::Same, None).is_none());
    }

    #[test]
    fn causal_pads_everything_before() {
        let a = ConvAxis::causal(9, 3, 2, 1).unwrap();
        assert_eq!((a.output, a.pad_before), (5, 2));
    }

    #[test]
    fn transposed_output_lengths_match_keras() {
        // (input 5, kernel, stride, padding, output_padding) -> Keras 3.15's length.
        let cases = [
            (3, 2, Padding::Same, None, 10),
            (3, 2, Padding::Valid, None, 11),
            (4, 2, Padding::Same, None, 10),
            (1, 3, Padding::Valid, None, 15),
            (3, 2, Padding::Same, Some(1), 10),
            (3, 2, Padding::Valid, Some(1), 12),
            (5, 3, Padding::Same, Some(2), 15),
            (2, 3, Padding::Same, Some(0), 12),
        ];
        for (k, s, p, op, expected) in cases {
            let a = ConvAxis::transposed(5, k, s, 1, p, op).unwrap();
            assert_eq!(a.input, expected, "kernel {k} stride {s} {p:?} {op:?}");
            assert_eq!(a.output, 5);
            a.check().unwrap();
        }
    }
}
