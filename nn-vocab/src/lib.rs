//! The layer vocabulary of `network!`: one description per Keras layer kind,
//! read by the macro (parsing, validation, shape checks, names, emitted
//! configuration) and by the runtime (summary, graph drawing, weight files,
//! Keras import, ONNX export) alike.
//!
//! Each layer kind is a configuration type in [`layer`] implementing
//! [`Layer`]: its [`Description`] (Keras class, aliases, function forms,
//! automatic-name prefix, argument table), construction from arguments with
//! Keras's defaults and validation, shape rule, weight tensors with Keras's
//! names and layouts, and graph text. [`LayerConfig`] holds any of them.
//!
//! The crate has no dependencies so the proc macro and the runtime can both
//! build on it; kernels and code generation stay per layer in those crates
//! (see `docs/adding-a-layer.md`).
//!
//! ```
//! use nn_vocab::{Arguments, LayerConfig, Operand, Value};
//!
//! let mut args = Arguments::new();
//! args.set("units", Value::Int(10));
//! let dense = LayerConfig::from_constructor("Dense", &args).unwrap().unwrap();
//! let input = Operand { shape: &[64], label: "`x`".into() };
//! assert_eq!(dense.output_shape("Dense `dense_1`", &[input]), Ok(vec![10]));
//! assert_eq!(dense.weight_names(), ["kernel", "bias"]);
//! assert_eq!(dense.name_prefix(), "dense");
//! ```

pub mod activation;
pub mod argument;
mod config;
pub mod conv_axis;
pub mod description;
pub mod initializer;
pub mod layer;
pub mod merge_op;
pub mod padding;
pub mod rust_source;
pub mod shape;
pub mod unary_op;
pub mod weight;

pub use activation::Activation;
pub use argument::{Argument, ArgumentError, Arguments, Value, ValueKind};
pub use config::LayerConfig;
pub use conv_axis::ConvAxis;
pub use description::{Description, Inputs, Layer};
pub use initializer::Initializer;
pub use merge_op::MergeOp;
pub use padding::{Padding, Padding1D};
pub use rust_source::{RustSource, ToRust};
pub use shape::{Operand, ShapeResult};
pub use unary_op::UnaryOp;
pub use weight::Weight;
