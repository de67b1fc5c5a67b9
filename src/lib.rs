//! nn: neural networks written as a `network!` block.
pub use nn_runtime as runtime;
