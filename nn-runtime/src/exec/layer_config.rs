//! The typed description of one layer: its kind and whole configuration, with
//! Keras's names and defaults applied. `network!` emits one per layer into
//! [`LayerSpec::config`](crate::spec::LayerSpec::config); whatever needs to
//! know what a layer *is* — summary, graph drawing, ONNX export, Keras weight
//! import, the architecture fingerprint of weight files — reads it rather
//! than display text.
//!
//! The type and every layer kind's description live in the layer vocabulary
//! ([`nn_vocab`], re-exported as [`crate::vocab`]), which the macro reads too.

pub use nn_vocab::LayerConfig;
