//! The CPU runtime behind `network!`: forward and backward kernels for every
//! layer, over flat `f32` slices in NHWC order.
//!
//! Conventions shared by every kernel:
//! - Sizes come from a small `Copy` description (`Conv2d`, `Dense`, ...) that
//!   generated code builds as a constant; the batch size is an argument.
//! - Outputs are written into caller-provided buffers; scratch comes from a
//!   caller-owned [`Workspace`], so a planned network allocates nothing per step.
//! - Backward *accumulates* (`+=`) into parameter and input gradients: shared
//!   layers and tensors read by several layers need no special handling.
//!   Where an activation is fused, backward turns the output gradient into the
//!   pre-activation gradient in place.
//! - Every buffer is checked against the description before use; a mismatch is
//!   a [`KernelError`], never an out-of-bounds access.
//! - Large kernels spread their work over [`threads`] (every core unless
//!   `NN_NUM_THREADS` or [`threads::set`] says otherwise); results do not
//!   depend on the number of threads.
//!
//! The folders follow the architecture; dependencies run down this list:
//! - [`model`]: the [`Model`] trait every generated network implements — the
//!   facade users call, whose provided methods hand over to the folders
//!   below — and [`inference`], batched prediction;
//! - [`train`]: fitting, losses, optimizers, metrics, callbacks, datasets
//!   (it drives a network through `Model`'s hidden plumbing);
//! - [`io`]: weight, dataset, image and ONNX files; [`report`]: summary,
//!   graph drawing, curves, confusion matrices;
//! - [`exec`]: the activation [`Arena`], the network description ([`spec`],
//!   [`LayerConfig`]) and its architecture [`fingerprint`];
//! - [`kernels`]: forward and backward code per layer kind with their ISA
//!   micro-kernels (`kernels::gather`), the thread pool and scratch space.
//!
//! [`NnError`], the error users see, is shared by all of them. Every module
//! is also re-exported at the crate root (`nn_runtime::conv2d`), the path
//! generated code and users name.

// Every unsafe operation, even inside an `unsafe fn`, sits in its own
// `unsafe` block with the reason it is sound.
#![deny(unsafe_op_in_unsafe_fn)]

/// The layer vocabulary: every layer kind's names, arguments, shape rule,
/// weights and graph text, shared with the `network!` macro.
pub use nn_vocab as vocab;

pub mod exec;
pub mod io;
pub mod kernels;
pub mod report;
pub mod train;

pub use kernels::{
    activation, batch_norm, conv2d, conv2d_transpose, conv_algorithm, conv_axis, conv_batch_norm, cropping2d,
    dense, dropout, elementwise_merge, elementwise_unary, error, gather, gemm, grouped_conv2d, init,
    layer_norm, merge, permute, pool2d, reshape, separable_conv2d, threads, upsampling2d, window, winograd,
    workspace, zero_padding2d,
};
pub(crate) use kernels::{bias, depthwise_conv2d, im2col};

pub mod custom_layer;
pub mod inference;
pub mod model;
pub mod model_error;
pub use exec::{arena, fingerprint, layer_config, spec};
pub use report::summary;

pub use activation::Activation;
pub use batch_norm::{BatchNorm, BatchNormParams};
pub use conv2d::Conv2d;
pub use conv2d_transpose::Conv2dTranspose;
pub use conv_axis::ConvAxis;
pub use cropping2d::Cropping2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use elementwise_merge::MergeOp;
pub use elementwise_unary::UnaryOp;
pub use error::KernelError;
pub use grouped_conv2d::GroupedConv2d;
pub use init::Initializer;
pub use layer_norm::{LayerNorm, LayerNormGrads};
pub use permute::Permute;
pub use pool2d::{GlobalAveragePool2d, GlobalMaxPool2d, Pool2d, PoolKind};
pub use separable_conv2d::SeparableConv2d;
pub use upsampling2d::{Interpolation, UpSampling2d};
pub use window::{Padding, Window2d};
pub use workspace::Workspace;
pub use zero_padding2d::ZeroPadding2d;

pub use arena::Arena;
pub use custom_layer::{CustomLayer, CustomLayers};
pub use layer_config::LayerConfig;
pub use model::{Mode, Model};
// Plumbing for generated code (see `model::Generated`).
#[doc(hidden)]
pub use model::{Generated, ModelCore, Slot};
pub use model_error::NnError;
pub use spec::{LayerSpec, ModelSpec, NestedSpec, NodeSpec, ParamSpec, TensorSpec};
