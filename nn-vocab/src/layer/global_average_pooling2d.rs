//! Keras's `GlobalAveragePooling2D`.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, single, Operand, ShapeResult};

/// The mean over height and width: `[h, w, c]` to `[c]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalAveragePooling2D;
layer_to_rust!(GlobalAveragePooling2D);

impl Layer for GlobalAveragePooling2D {
    const DESCRIPTION: Description = Description {
        aliases: &["GlobalAvgPool2D"],
        functions: &["global_average_pooling2d"],
        ..Description::layer("GlobalAveragePooling2D", "global_average_pooling2d", &[])
    };

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(GlobalAveragePooling2D)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let (_, _, c) = expect_image(layer, single(layer, inputs)?)?;
        Ok(vec![c])
    }
}
