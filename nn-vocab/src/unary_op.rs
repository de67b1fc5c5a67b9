//! Which element-wise function an `abs`, `square` or `sqrt` call computes
//! (the kernels are `nn_runtime::elementwise_unary`).

use crate::rust_source::{RustSource, ToRust};

/// Which function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `|x|`; derivative `sign(x)`, 0 at 0 (as TensorFlow).
    Abs,
    /// `x²`.
    Square,
    /// `√x`: NaN for negative `x` (as Keras); the derivative is floored so
    /// that `x = 0` gives a finite gradient.
    Sqrt,
}

impl UnaryOp {
    /// The Keras 3 operation class a functional model shows.
    pub fn name(self) -> &'static str {
        match self {
            UnaryOp::Abs => "Absolute",
            UnaryOp::Square => "Square",
            UnaryOp::Sqrt => "Sqrt",
        }
    }
}

impl ToRust for UnaryOp {
    fn write_rust(&self, out: &mut RustSource) {
        out.path(match self {
            UnaryOp::Abs => "UnaryOp::Abs",
            UnaryOp::Square => "UnaryOp::Square",
            UnaryOp::Sqrt => "UnaryOp::Sqrt",
        });
    }
}
