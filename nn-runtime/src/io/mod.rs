//! Files: weights (safetensors) and datasets (IDX, the digits CSV).

pub mod atomic;
pub mod datasets;
pub mod idx;
pub mod weights;
