//! Keras's `InputLayer`: written as an `input x: [..];` statement.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{single, Operand, ShapeResult};

/// A network input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Input;
layer_to_rust!(Input);

impl Layer for Input {
    const DESCRIPTION: Description = Description {
        constructible: false,
        ..Description::layer("InputLayer", "input", &[])
    };

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Input)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        Ok(single(layer, inputs)?.shape.to_vec())
    }
}
