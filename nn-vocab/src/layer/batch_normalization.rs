//! Keras's `BatchNormalization` over the last axis.

use crate::argument::{optional, Argument, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::rust_source::layer_to_rust;
use crate::shape::{single, Operand, ShapeResult};
use crate::weight::Weight;

/// Normalises the last axis (`axis = -1`); inference uses the moving
/// statistics: `gamma * (x - mean) / sqrt(variance + epsilon) + beta`.
/// `center = false` drops `beta`, `scale = false` drops `gamma`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchNormalization {
    pub momentum: f32,
    pub epsilon: f32,
    pub center: bool,
    pub scale: bool,
}
layer_to_rust!(BatchNormalization {
    momentum,
    epsilon,
    center,
    scale
});

const ARGUMENTS: &[Argument] = &[
    optional("momentum", ValueKind::Float),
    optional("epsilon", ValueKind::Float),
    optional("center", ValueKind::Bool),
    optional("scale", ValueKind::Bool),
];

impl Layer for BatchNormalization {
    const DESCRIPTION: Description =
        Description::layer("BatchNormalization", "batch_normalization", ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let momentum = args.float("momentum").unwrap_or(0.99);
        let epsilon = args.float("epsilon").unwrap_or(1e-3);
        let mut errors = Vec::new();
        if !(0.0..=1.0).contains(&momentum) {
            errors.push(ArgumentError::at(
                "momentum",
                format!("BatchNormalization: `momentum` must be ≥ 0 and ≤ 1, got {momentum}"),
            ));
        }
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            errors.push(ArgumentError::at(
                "epsilon",
                format!("BatchNormalization: `epsilon` must be a small positive number, got {epsilon}"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(BatchNormalization {
            momentum,
            epsilon,
            center: args.bool("center", true),
            scale: args.bool("scale", true),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        Ok(single(layer, inputs)?.shape.to_vec())
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let channels = input.last().copied().unwrap_or(0);
        let mut weights = Vec::new();
        if self.scale {
            weights.push(Weight::vector("gamma", channels, true, Initializer::Ones));
        }
        if self.center {
            weights.push(Weight::vector("beta", channels, true, Initializer::Zeros));
        }
        weights.push(Weight::vector("moving_mean", channels, false, Initializer::Zeros));
        weights.push(Weight::vector(
            "moving_variance",
            channels,
            false,
            Initializer::Ones,
        ));
        weights
    }
}
