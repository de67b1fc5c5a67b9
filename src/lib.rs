//! nn: neural networks written as a `network!` block.
pub use nn_macros::network;
pub use nn_runtime as runtime;
pub use nn_runtime::{Mode, Model, NnError};

pub use ndarray;
pub use rand;
