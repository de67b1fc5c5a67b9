//! Files: weights (safetensors, and Keras 3 weights converted to it), ONNX
//! export, and datasets (IDX, the digits CSV).

pub mod atomic;
pub mod bilinear;
pub mod datasets;
pub mod idx;
pub mod image_folder;
pub mod keras;
pub mod onnx;
pub mod png_export;
pub mod weights;
pub mod whole_file;
pub mod writer;
