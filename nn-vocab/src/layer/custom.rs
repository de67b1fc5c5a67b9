//! A user-defined layer: `Custom(expr, output = [..])(x)`. Its computation
//! is a Rust value implementing `nn::CustomLayer`, created in the network's
//! constructor; the vocabulary only knows what the macro was told: the
//! declared output shape (the shape later layers see) and which of the
//! network's custom layers it is. It has no weights.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{show, single, Operand, ShapeResult};

/// Most axes (after the batch axis) a custom layer's output may have.
pub const MAX_CUSTOM_AXES: usize = 6;

/// `output` is the declared per-sample output shape (entries past `rank`
/// are unused, 0); `index` is the layer's position among the network's
/// custom layers, where the constructor keeps its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Custom {
    pub output: [usize; MAX_CUSTOM_AXES],
    pub rank: usize,
    pub index: usize,
}
layer_to_rust!(Custom { output, rank, index });

impl Custom {
    /// The declared output shape, per sample.
    pub fn output(&self) -> &[usize] {
        &self.output[..self.rank]
    }
}

impl Layer for Custom {
    /// Not constructible through the argument table: its first argument is
    /// a Rust expression, which the macro handles itself.
    const DESCRIPTION: Description = Description {
        constructible: false,
        ..Description::layer("Custom", "custom", &[])
    };

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Err(vec![ArgumentError::at(
            "output",
            "Custom is written `Custom(value, output = [..])`",
        )])
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        single(layer, inputs)?;
        Ok(self.output().to_vec())
    }

    fn detail(&self) -> String {
        format!("declared output {}", show(self.output()))
    }
}
