//! Keras's `LayerNormalization` over the last axis.

use crate::argument::{optional, Argument, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::rust_source::layer_to_rust;
use crate::shape::{single, Operand, ShapeResult};
use crate::weight::Weight;

/// Each sample's last axis normalised by its own mean and variance:
/// `gamma * (x - mean) / sqrt(variance + epsilon) + beta`; `center = false`
/// drops `beta`, `scale = false` drops `gamma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerNormalization {
    pub epsilon: f32,
    pub center: bool,
    pub scale: bool,
}
layer_to_rust!(LayerNormalization {
    epsilon,
    center,
    scale
});

const ARGUMENTS: &[Argument] = &[
    optional("axis", ValueKind::Axis),
    optional("epsilon", ValueKind::Float),
    optional("center", ValueKind::Bool),
    optional("scale", ValueKind::Bool),
];

impl Layer for LayerNormalization {
    const DESCRIPTION: Description =
        Description::layer("LayerNormalization", "layer_normalization", ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let mut errors = Vec::new();
        if let Some(axis) = args.axis("axis") {
            if axis != -1 {
                errors.push(ArgumentError::at(
                    "axis",
                    format!("LayerNormalization normalises the last axis only (`axis = -1`), got {axis}"),
                ));
            }
        }
        let epsilon = args.float("epsilon").unwrap_or(1e-3);
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            errors.push(ArgumentError::at(
                "epsilon",
                format!("LayerNormalization: `epsilon` must be a small positive number, got {epsilon}"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(LayerNormalization {
            epsilon,
            center: args.bool("center", true),
            scale: args.bool("scale", true),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        if x.shape.is_empty() {
            return Err(format!("{layer} needs a tensor with at least one axis"));
        }
        Ok(x.shape.to_vec())
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let width = input.last().copied().unwrap_or(0);
        let mut weights = Vec::new();
        if self.scale {
            weights.push(Weight::vector("gamma", width, true, Initializer::Ones));
        }
        if self.center {
            weights.push(Weight::vector("beta", width, true, Initializer::Zeros));
        }
        weights
    }

    fn detail(&self) -> String {
        format!("epsilon {}", self.epsilon)
    }
}
