//! Activation functions by their Keras names. The kernels that compute them
//! are in `nn_runtime::activation`.

use crate::rust_source::{RustSource, ToRust};

/// An activation function, as Keras names them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// Identity (`activation=None` or `'linear'`).
    Linear,
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
    /// `x` for positive `x`, `alpha * x` otherwise (Keras's default alpha is 0.3;
    /// `alpha` must be positive so the derivative can be read off the output).
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
    /// Softmax over the last axis, max-subtracted for stability.
    Softmax,
    /// `x` for positive `x`, `exp(x) - 1` otherwise (Keras's `elu`, alpha 1).
    Elu,
    /// `scale · elu_alpha(x)` with Keras's (Klambauer et al.'s) constants.
    Selu,
    /// `ln(1 + exp(x))`, computed without overflow.
    Softplus,
    /// Keras 3's `relu6(x + 3) / 6` (Keras 2's was `0.2x + 0.5` clipped).
    HardSigmoid,
    /// Keras's `ReLU` layer in full: `max_value` from `max_value` up,
    /// `x` from `threshold` up, `negative_slope · (x - threshold)` below.
    /// `negative_slope ≥ 0`, `threshold ≥ 0` and `max_value > threshold`
    /// (`f32::INFINITY` for none), so the derivative can be read off the
    /// output: the three pieces' outputs do not overlap.
    ReluWith {
        negative_slope: f32,
        max_value: f32,
        threshold: f32,
    },
    /// Keras 3's default `gelu`, the exact form `x · Φ(x)` with the normal
    /// CDF `Φ(x) = (1 + erf(x / √2)) / 2` (not the tanh approximation).
    Gelu,
    /// `x · sigmoid(x)`: Keras's `silu`, `swish` being its alias.
    Swish,
}

/// Keras 3's `activations.leaky_relu` default slope (the `LeakyReLU`
/// layer's is 0.3).
const LEAKY_RELU_FUNCTION_SLOPE: f32 = 0.2;

impl Activation {
    /// Every name [`Activation::from_name`] accepts, in the order messages
    /// list them (`None` aside).
    pub const NAMES: &'static [&'static str] = &[
        "linear",
        "relu",
        "relu6",
        "leaky_relu",
        "sigmoid",
        "tanh",
        "softmax",
        "elu",
        "selu",
        "softplus",
        "hard_sigmoid",
        "gelu",
        "swish",
        "silu",
    ];

    /// Keras activations this runtime lacks: a message must not suggest
    /// one of ours as a typo fix for them (`gelu` is not `relu`).
    pub const OTHER_KERAS_NAMES: &'static [&'static str] = &["mish", "softsign", "hard_silu", "hard_swish"];

    pub fn from_name(name: &str) -> Option<Activation> {
        Some(match name {
            "linear" | "None" => Activation::Linear,
            "relu" => Activation::Relu,
            "relu6" => Activation::Relu6,
            "leaky_relu" => Activation::LeakyRelu(LEAKY_RELU_FUNCTION_SLOPE),
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            "elu" => Activation::Elu,
            "selu" => Activation::Selu,
            "softplus" => Activation::Softplus,
            "hard_sigmoid" => Activation::HardSigmoid,
            "gelu" => Activation::Gelu,
            "swish" | "silu" => Activation::Swish,
            _ => return None,
        })
    }

    /// The Keras name, for summaries and graphs.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Linear => "linear",
            Activation::Relu => "relu",
            Activation::Relu6 => "relu6",
            Activation::LeakyRelu(_) => "leaky_relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Softmax => "softmax",
            Activation::Elu => "elu",
            Activation::Selu => "selu",
            Activation::Softplus => "softplus",
            Activation::HardSigmoid => "hard_sigmoid",
            Activation::ReluWith { .. } => "relu",
            Activation::Gelu => "gelu",
            Activation::Swish => "silu",
        }
    }

    /// Whether the derivative must be computed from the pre-activation (the
    /// output does not determine it, the function not being monotonic): a
    /// layer applying it keeps its pre-activation for backward.
    pub const fn derivative_needs_input(self) -> bool {
        matches!(self, Activation::Gelu | Activation::Swish)
    }
}

impl ToRust for Activation {
    fn write_rust(&self, out: &mut RustSource) {
        let variant = match self {
            Activation::Linear => "Linear",
            Activation::Relu => "Relu",
            Activation::Relu6 => "Relu6",
            Activation::Sigmoid => "Sigmoid",
            Activation::Tanh => "Tanh",
            Activation::Softmax => "Softmax",
            Activation::Elu => "Elu",
            Activation::Selu => "Selu",
            Activation::Softplus => "Softplus",
            Activation::HardSigmoid => "HardSigmoid",
            Activation::Gelu => "Gelu",
            Activation::Swish => "Swish",
            Activation::LeakyRelu(alpha) => {
                out.path("Activation::LeakyRelu");
                out.tuple(&[alpha]);
                return;
            }
            Activation::ReluWith {
                negative_slope,
                max_value,
                threshold,
            } => {
                out.path("Activation::ReluWith");
                out.fields(&[
                    ("negative_slope", negative_slope),
                    ("max_value", max_value),
                    ("threshold", threshold),
                ]);
                return;
            }
        };
        out.path("Activation::");
        out.raw(variant);
    }
}
