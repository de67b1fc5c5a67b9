//! Files: weights (safetensors) and datasets (IDX, the digits CSV).

pub mod atomic;
pub mod bilinear;
pub mod datasets;
pub mod idx;
pub mod image_folder;
pub mod png_export;
pub mod weights;
