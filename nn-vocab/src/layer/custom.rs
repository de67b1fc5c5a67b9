//! A user-defined layer: `Custom(expr, output = [..])(x)`. Its computation
//! is a Rust value implementing `nn::CustomLayer`, created in the network's
//! constructor; the vocabulary only knows what the macro was told: the
//! declared output shape (the shape later layers see), the declared weights
//! (`weights = [scale = [8]]`: names and shapes, for the parameter layout,
//! counts and weight files) and which of the network's custom layers it is.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::rust_source::layer_to_rust;
use crate::rust_source::{RustSource, ToRust};
use crate::shape::{show, single, Operand, ShapeResult};
use crate::weight::Weight;

/// Most axes (after the batch axis) a custom layer's output may have.
pub const MAX_CUSTOM_AXES: usize = 6;

/// Most weight tensors a custom layer may declare.
pub const MAX_CUSTOM_WEIGHTS: usize = 8;

/// One declared weight tensor: its name in weight files (`custom_1.scale`)
/// and shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomWeight {
    pub name: &'static str,
    pub shape: &'static [usize],
}

impl ToRust for CustomWeight {
    fn write_rust(&self, out: &mut RustSource) {
        let CustomWeight { name, shape } = self;
        out.path("layer::CustomWeight");
        out.fields(&[("name", name), ("shape", shape)]);
    }
}

/// `output` is the declared per-sample output shape (entries past `rank`
/// are unused, 0); `index` is the layer's position among the network's
/// custom layers, where the constructor keeps its value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Custom {
    pub output: [usize; MAX_CUSTOM_AXES],
    pub rank: usize,
    /// The declared weights, in order (a layer configuration is `Copy` and
    /// written into generated code as a constant, hence `'static`).
    pub weights: &'static [CustomWeight],
    pub index: usize,
}
layer_to_rust!(Custom {
    output,
    rank,
    weights,
    index
});

impl Custom {
    /// The declared output shape, per sample.
    pub fn output(&self) -> &[usize] {
        &self.output[..self.rank]
    }

    /// The declared weights, in order.
    pub fn declared_weights(&self) -> &'static [CustomWeight] {
        self.weights
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

    /// All trainable; the constructor overwrites the zeros with the
    /// layer's own `CustomLayer::initialize`.
    fn weights(&self, _input: &[usize]) -> Vec<Weight> {
        self.declared_weights()
            .iter()
            .map(|w| Weight {
                name: w.name,
                shape: w.shape.to_vec(),
                trainable: true,
                init: Initializer::Zeros,
                fans: (0, 0),
            })
            .collect()
    }

    fn detail(&self) -> String {
        format!("declared output {}", show(self.output()))
    }
}
