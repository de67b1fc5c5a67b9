//! What a generated network runs on: the activation [`arena`], the static
//! description of a network ([`spec`], [`layer_config`]) and the
//! architecture [`fingerprint`] written into weight files. Built on
//! [`crate::kernels`].

pub mod arena;
pub mod fingerprint;
pub mod layer_config;
pub mod spec;
