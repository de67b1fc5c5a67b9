//! Forward and backward code for each layer kind over flat `f32` slices
//! (NHWC), with the pieces every kernel shares: the thread pool
//! ([`threads`]), scratch space ([`workspace`]), the matrix product
//! ([`gemm`]) and its ISA-specific gather micro-kernels ([`gather`]).
//! Nothing here knows about networks, training or files.

pub mod activation;
pub mod batch_norm;
pub(crate) mod bias;
pub mod conv2d;
pub mod conv2d_transpose;
pub mod conv_algorithm;
pub mod conv_axis;
pub mod conv_batch_norm;
pub mod cropping2d;
pub mod dense;
pub(crate) mod depthwise_conv2d;
pub mod dropout;
pub mod elementwise_merge;
pub mod elementwise_unary;
pub mod error;
pub mod gather;
pub mod gemm;
pub mod grouped_conv2d;
pub(crate) mod im2col;
pub mod init;
pub mod layer_norm;
pub mod merge;
pub mod permute;
pub mod pool2d;
pub mod reshape;
pub mod separable_conv2d;
pub mod threads;
pub mod upsampling2d;
pub mod window;
pub mod winograd;
pub mod workspace;
pub mod zero_padding2d;
