//! Keras's `Identity`.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{single, Operand, ShapeResult};

/// Its input, unchanged: a placeholder (a branch that does nothing, a name
/// for a tensor in the summary).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Identity;
layer_to_rust!(Identity);

impl Layer for Identity {
    const DESCRIPTION: Description = Description::layer("Identity", "identity", &[]);

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Identity)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        Ok(single(layer, inputs)?.shape.to_vec())
    }

    fn work(&self, _input: &[usize], _output: &[usize]) -> u64 {
        // No code runs: the output is the input's storage.
        0
    }
}
