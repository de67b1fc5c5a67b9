//! Keras's `UpSampling2D`.

use crate::argument::{optional, Argument, ArgumentError, Arguments, Value, ValueKind};
use crate::description::{Description, Layer};
use crate::rust_source::{layer_to_rust, RustSource, ToRust};
use crate::shape::{expect_image, single, Operand, ShapeResult};

/// How new pixels get their values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// Each pixel repeated.
    Nearest,
    /// Keras 3's `ops.image.resize(..., "bilinear")`: half-pixel centres,
    /// edges clamped.
    Bilinear,
}

impl Interpolation {
    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Nearest => "nearest",
            Interpolation::Bilinear => "bilinear",
        }
    }
}

impl ToRust for Interpolation {
    fn write_rust(&self, out: &mut RustSource) {
        out.path(match self {
            Interpolation::Nearest => "layer::Interpolation::Nearest",
            Interpolation::Bilinear => "layer::Interpolation::Bilinear",
        });
    }
}

/// Each image made `size[0]` times taller and `size[1]` times wider.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpSampling2D {
    pub size: [usize; 2],
    pub interpolation: Interpolation,
}
layer_to_rust!(UpSampling2D { size, interpolation });

const ARGUMENTS: &[Argument] = &[
    optional("size", ValueKind::IntOrPair),
    optional("interpolation", ValueKind::Str),
];

impl Layer for UpSampling2D {
    const DESCRIPTION: Description = Description::layer("UpSampling2D", "up_sampling2d", ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let interpolation = match args.get("interpolation") {
            None => Interpolation::Nearest,
            Some(Value::Str(s)) if s == "nearest" => Interpolation::Nearest,
            Some(Value::Str(s)) if s == "bilinear" => Interpolation::Bilinear,
            Some(other) => {
                let given = match other {
                    Value::Str(s) => format!("\"{s}\""),
                    other => format!("{other:?}"),
                };
                return Err(vec![ArgumentError::at(
                    "interpolation",
                    format!("UpSampling2D: `interpolation` must be \"nearest\" or \"bilinear\", got {given}"),
                )]);
            }
        };
        Ok(UpSampling2D {
            size: args.pair("size").unwrap_or([2, 2]),
            interpolation,
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let (h, w, c) = expect_image(layer, single(layer, inputs)?)?;
        match (h.checked_mul(self.size[0]), w.checked_mul(self.size[1])) {
            (Some(oh), Some(ow)) => Ok(vec![oh, ow, c]),
            _ => Err(format!("{layer}: the up-sampled size is out of range")),
        }
    }

    fn detail(&self) -> String {
        format!("{}x{}, {}", self.size[0], self.size[1], self.interpolation.name())
    }
}
