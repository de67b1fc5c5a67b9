//! Keras's `GlobalMaxPooling2D`.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, single, Operand, ShapeResult};

/// The maximum over height and width: `[h, w, c]` to `[c]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalMaxPooling2D;
layer_to_rust!(GlobalMaxPooling2D);

impl Layer for GlobalMaxPooling2D {
    const DESCRIPTION: Description = Description {
        aliases: &["GlobalMaxPool2D"],
        functions: &["global_max_pooling2d"],
        ..Description::layer("GlobalMaxPooling2D", "global_max_pooling2d", &[])
    };

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(GlobalMaxPooling2D)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let (_, _, c) = expect_image(layer, single(layer, inputs)?)?;
        Ok(vec![c])
    }
}
