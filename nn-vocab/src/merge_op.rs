//! Which element-wise merge a `Subtract`, `Multiply`, `Average`, `Maximum`
//! or `Minimum` layer computes (the kernels are `nn_runtime::elementwise_merge`).

use crate::rust_source::{RustSource, ToRust};

/// Which merge, as Keras names the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MergeOp {
    /// `x₀ - x₁` (exactly two inputs).
    Subtract,
    /// `x₀ · x₁ · …`.
    Multiply,
    /// `(x₀ + x₁ + …) / n`.
    Average,
    /// `max(x₀, x₁, …)`; the gradient goes to the first input holding the
    /// maximum (Keras folds `maximum` pairwise, and TensorFlow's pairwise
    /// gradient gives a tie to the left operand).
    Maximum,
    /// `min(x₀, x₁, …)`; ties as for [`MergeOp::Maximum`].
    Minimum,
}

impl MergeOp {
    /// The Keras class name.
    pub fn name(self) -> &'static str {
        match self {
            MergeOp::Subtract => "Subtract",
            MergeOp::Multiply => "Multiply",
            MergeOp::Average => "Average",
            MergeOp::Maximum => "Maximum",
            MergeOp::Minimum => "Minimum",
        }
    }
}

impl ToRust for MergeOp {
    fn write_rust(&self, out: &mut RustSource) {
        out.path("MergeOp::");
        out.raw(self.name());
    }
}
