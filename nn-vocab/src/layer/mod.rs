//! One file per layer kind (or per family sharing its rules): the
//! configuration type, its [`Layer`](crate::Layer) description, shape rule,
//! weights and summary text.

mod activation;
mod batch_normalization;
mod border2d;
mod conv1d;
mod conv2d;
mod conv2d_transpose;
mod conv_rules;
mod custom;
mod dense;
mod depthwise_conv2d;
mod dropout;
mod elementwise;
mod flatten;
mod global_average_pooling2d;
mod global_max_pooling2d;
mod identity;
mod input;
mod layer_normalization;
mod merge;
mod pooling1d;
mod pooling2d;
mod reshape;
mod separable_conv2d;
mod up_sampling2d;

pub use activation::{function_detail, Activation, LeakyReLU, ReLU};
pub use batch_normalization::BatchNormalization;
pub use border2d::{Cropping2D, ZeroPadding2D};
pub use conv1d::Conv1D;
pub use conv2d::Conv2D;
pub use conv2d_transpose::Conv2DTranspose;
pub use custom::{Custom, CustomWeight, MAX_CUSTOM_AXES, MAX_CUSTOM_WEIGHTS};
pub use dense::Dense;
pub use depthwise_conv2d::DepthwiseConv2D;
pub use dropout::Dropout;
pub use elementwise::{Abs, Sqrt, Square};
pub use flatten::Flatten;
pub use global_average_pooling2d::GlobalAveragePooling2D;
pub use global_max_pooling2d::GlobalMaxPooling2D;
pub use identity::Identity;
pub use input::Input;
pub use layer_normalization::LayerNormalization;
pub use merge::{Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract};
pub use pooling1d::{AveragePooling1D, GlobalAveragePooling1D, MaxPooling1D};
pub use pooling2d::{AveragePooling2D, MaxPooling2D};
pub use reshape::{Permute, Reshape, MAX_AXES};
pub use separable_conv2d::SeparableConv2D;
pub use up_sampling2d::{Interpolation, UpSampling2D};
