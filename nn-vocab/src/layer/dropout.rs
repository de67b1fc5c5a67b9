//! Keras's `Dropout`.

use crate::argument::{required, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{single, Operand, ShapeResult};

/// Zeroes a `rate` fraction of the values in training (scaling the rest
/// up); the identity at inference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    pub rate: f32,
}
layer_to_rust!(Dropout { rate });

impl Layer for Dropout {
    const DESCRIPTION: Description =
        Description::layer("Dropout", "dropout", &[required("rate", ValueKind::Float)]);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let rate = args.float("rate").unwrap_or(0.0);
        if !(0.0..1.0).contains(&rate) {
            return Err(vec![ArgumentError::at(
                "rate",
                format!("Dropout: `rate` must be ≥ 0 and < 1, got {rate}"),
            )]);
        }
        Ok(Dropout { rate })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        Ok(single(layer, inputs)?.shape.to_vec())
    }

    fn detail(&self) -> String {
        format!("rate {}", self.rate)
    }
}
