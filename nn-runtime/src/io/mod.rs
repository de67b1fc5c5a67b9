//! Files: weights (safetensors, and Keras 3 weights converted to it), ONNX
//! export, and datasets (IDX, the digits CSV).

pub mod datasets;
pub mod idx;
pub mod keras;
pub mod onnx;
pub mod weights;
pub mod writer;
