//! Keras's `ZeroPadding2D` and `Cropping2D`: rows and columns added or
//! removed at an image's borders. Amounts are `[[top, bottom], [left, right]]`.

use crate::argument::{optional, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, single, Operand, ShapeResult};

/// Zeros added around an image.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZeroPadding2D {
    pub padding: [[usize; 2]; 2],
}
layer_to_rust!(ZeroPadding2D { padding });

/// Rows and columns removed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cropping2D {
    pub cropping: [[usize; 2]; 2],
}
layer_to_rust!(Cropping2D { cropping });

fn detail([[top, bottom], [left, right]]: [[usize; 2]; 2]) -> String {
    format!("(({top}, {bottom}), ({left}, {right}))")
}

/// `(rows, columns)` in total, or the message that they overflow.
fn totals(layer: &str, [[top, bottom], [left, right]]: [[usize; 2]; 2]) -> Result<(usize, usize), String> {
    match (top.checked_add(bottom), left.checked_add(right)) {
        (Some(rows), Some(columns)) => Ok((rows, columns)),
        _ => Err(format!("{layer}: the amounts are out of range")),
    }
}

impl Layer for ZeroPadding2D {
    const DESCRIPTION: Description = Description::layer(
        "ZeroPadding2D",
        "zero_padding2d",
        &[optional("padding", ValueKind::Border)],
    );

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        // Keras's default: one row and column of zeros on every side.
        Ok(ZeroPadding2D {
            padding: args.border("padding").unwrap_or([[1, 1], [1, 1]]),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let (h, w, c) = expect_image(layer, single(layer, inputs)?)?;
        let (rows, columns) = totals(layer, self.padding)?;
        match (h.checked_add(rows), w.checked_add(columns)) {
            (Some(oh), Some(ow)) => Ok(vec![oh, ow, c]),
            _ => Err(format!("{layer}: the amounts are out of range")),
        }
    }

    fn detail(&self) -> String {
        detail(self.padding)
    }
}

impl Layer for Cropping2D {
    const DESCRIPTION: Description = Description::layer(
        "Cropping2D",
        "cropping2d",
        &[optional("cropping", ValueKind::Border)],
    );

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Cropping2D {
            cropping: args.border("cropping").unwrap_or([[0, 0], [0, 0]]),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let (h, w, c) = expect_image(layer, x)?;
        let (rows, columns) = totals(layer, self.cropping)?;
        if rows >= h || columns >= w {
            let [[top, bottom], [left, right]] = self.cropping;
            return Err(format!(
                "{layer}: cropping {top}+{bottom} rows and {left}+{right} columns of {} ({h}x{w} \
                 spatially) leaves nothing; crop less than the image",
                x.label
            ));
        }
        Ok(vec![h - rows, w - columns, c])
    }

    fn detail(&self) -> String {
        detail(self.cropping)
    }
}
