//! Keras's `Flatten`.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{checked_len, single, Operand, ShapeResult};

/// All axes into one, in height, width, channels order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Flatten;
layer_to_rust!(Flatten);

impl Layer for Flatten {
    const DESCRIPTION: Description = Description {
        functions: &["flatten"],
        ..Description::layer("Flatten", "flatten", &[])
    };

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Flatten)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        match checked_len(x.shape) {
            Some(len) => Ok(vec![len]),
            None => Err(format!("{layer}: {} is too large to flatten", x.label)),
        }
    }
}
