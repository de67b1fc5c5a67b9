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
//! Beside the kernels: the [`Model`] trait that `network!` expansions
//! implement, training ([`train`]), weight and dataset files ([`io`]) and
//! training curves ([`report`]).

// Every unsafe operation, even inside an `unsafe fn`, sits in its own
// `unsafe` block with the reason it is sound.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod activation;
pub mod batch_norm;
mod bias;
pub mod conv2d;
pub mod cropping2d;
pub mod dense;
pub mod dropout;
pub mod elementwise_merge;
pub mod elementwise_unary;
pub mod error;
pub mod gemm;
mod im2col;
pub mod init;
pub mod merge;
pub mod pool2d;
pub mod window;
pub mod workspace;
pub mod zero_padding2d;

pub use activation::Activation;
pub use batch_norm::{BatchNorm, BatchNormParams};
pub use conv2d::Conv2d;
pub use cropping2d::Cropping2d;
pub use dense::Dense;
pub use dropout::Dropout;
pub use elementwise_merge::MergeOp;
pub use elementwise_unary::UnaryOp;
pub use error::KernelError;
pub use init::Initializer;
pub use pool2d::{GlobalAveragePool2d, Pool2d, PoolKind};
pub use window::{Padding, Window2d};
pub use workspace::Workspace;
pub use zero_padding2d::ZeroPadding2d;

pub mod arena;
pub mod fingerprint;
pub mod inference;
pub mod layer_config;
pub mod model;
pub mod model_error;
pub mod spec;
pub mod summary;

pub use arena::Arena;
pub use layer_config::LayerConfig;
pub use model::{Mode, Model};
// Plumbing for generated code (see `model::Generated`).
#[doc(hidden)]
pub use model::{Generated, ModelCore, Slot};
pub use model_error::NnError;
pub use spec::{LayerSpec, ModelSpec, NodeSpec, ParamSpec, TensorSpec};
pub mod gather;
pub mod io;
pub mod report;
pub mod threads;
pub mod train;
