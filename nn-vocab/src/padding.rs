//! Keras's `padding` for sliding windows and the output-size rule it implies.

use crate::rust_source::{RustSource, ToRust};

/// Keras's padding modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// No padding: `out = floor((in - k) / stride) + 1`.
    Valid,
    /// Zero padding so that `out = ceil(in / stride)`; when the total padding
    /// is odd, the extra row/column goes at the bottom/right.
    Same,
}

impl Padding {
    pub fn name(self) -> &'static str {
        match self {
            Padding::Valid => "valid",
            Padding::Same => "same",
        }
    }

    pub fn from_name(name: &str) -> Option<Padding> {
        match name {
            "valid" => Some(Padding::Valid),
            "same" => Some(Padding::Same),
            _ => None,
        }
    }
}

/// Output length along one axis, or `None` when the window does not fit.
pub const fn output_len(input: usize, window: usize, stride: usize, padding: Padding) -> Option<usize> {
    if input == 0 || window == 0 || stride == 0 {
        return None;
    }
    match padding {
        Padding::Same => Some(input.div_ceil(stride)),
        Padding::Valid => {
            if window > input {
                None
            } else {
                Some((input - window) / stride + 1)
            }
        }
    }
}

/// Padding added before the first element along one axis (top or left).
pub const fn pad_before(input: usize, window: usize, stride: usize, padding: Padding) -> usize {
    match padding {
        Padding::Valid => 0,
        Padding::Same => {
            let out = input.div_ceil(stride);
            let needed = (out - 1) * stride + window;
            let total = needed.saturating_sub(input);
            total / 2
        }
    }
}

impl ToRust for Padding {
    fn write_rust(&self, out: &mut RustSource) {
        out.path(match self {
            Padding::Valid => "Padding::Valid",
            Padding::Same => "Padding::Same",
        });
    }
}

/// Conv1D's padding: Keras's `valid` and `same`, or `causal` (all zeros
/// before the steps, so no output sees a later step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding1D {
    Valid,
    Same,
    Causal,
}

impl Padding1D {
    pub fn name(self) -> &'static str {
        match self {
            Padding1D::Valid => "valid",
            Padding1D::Same => "same",
            Padding1D::Causal => "causal",
        }
    }

    pub fn from_name(name: &str) -> Option<Padding1D> {
        match name {
            "valid" => Some(Padding1D::Valid),
            "same" => Some(Padding1D::Same),
            "causal" => Some(Padding1D::Causal),
            _ => None,
        }
    }

    /// The two-sided padding it is, or `None` for `causal`.
    pub fn two_sided(self) -> Option<Padding> {
        match self {
            Padding1D::Valid => Some(Padding::Valid),
            Padding1D::Same => Some(Padding::Same),
            Padding1D::Causal => None,
        }
    }
}

impl ToRust for Padding1D {
    fn write_rust(&self, out: &mut RustSource) {
        out.path(match self {
            Padding1D::Valid => "Padding1D::Valid",
            Padding1D::Same => "Padding1D::Same",
            Padding1D::Causal => "Padding1D::Causal",
        });
    }
}
