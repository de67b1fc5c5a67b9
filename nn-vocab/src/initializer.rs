//! Weight initializers by their Keras names. Drawing the values is the
//! runtime's (`nn_runtime::init`).

use crate::rust_source::{RustSource, ToRust};

/// A Keras initializer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initializer {
    /// Uniform in `±sqrt(6 / (fan_in + fan_out))`: Keras's default for kernels.
    GlorotUniform,
    /// Normal with stddev `sqrt(2 / fan_in)`, truncated at two standard
    /// deviations (Keras's `he_normal`).
    HeNormal,
    /// Uniform in `±sqrt(6 / fan_in)`.
    HeUniform,
    Zeros,
    Ones,
}

impl Initializer {
    /// Every name [`Initializer::from_name`] accepts.
    pub const NAMES: &'static [&'static str] =
        &["glorot_uniform", "he_normal", "he_uniform", "zeros", "ones"];

    pub fn from_name(name: &str) -> Option<Initializer> {
        Some(match name {
            "glorot_uniform" => Initializer::GlorotUniform,
            "he_normal" => Initializer::HeNormal,
            "he_uniform" => Initializer::HeUniform,
            "zeros" => Initializer::Zeros,
            "ones" => Initializer::Ones,
            _ => return None,
        })
    }
}

impl ToRust for Initializer {
    fn write_rust(&self, out: &mut RustSource) {
        out.path(match self {
            Initializer::GlorotUniform => "Initializer::GlorotUniform",
            Initializer::HeNormal => "Initializer::HeNormal",
            Initializer::HeUniform => "Initializer::HeUniform",
            Initializer::Zeros => "Initializer::Zeros",
            Initializer::Ones => "Initializer::Ones",
        });
    }
}
