//! Keras's `Dense`.

use crate::activation::Activation;
use crate::argument::{optional, required, Argument, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::rust_source::layer_to_rust;
use crate::shape::{product, single, Operand, ShapeResult};
use crate::weight::Weight;

/// A fully connected layer, applied to the last axis of any tensor (the
/// others are rows).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dense {
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Initializer,
}
layer_to_rust!(Dense {
    units,
    activation,
    use_bias,
    kernel_initializer
});

const ARGUMENTS: &[Argument] = &[
    required("units", ValueKind::Int),
    optional("activation", ValueKind::Activation),
    optional("use_bias", ValueKind::Bool),
    optional("kernel_initializer", ValueKind::Initializer),
];

impl Layer for Dense {
    const DESCRIPTION: Description = Description::layer("Dense", "dense", ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Dense {
            units: args.int("units", 1),
            activation: args.activation("activation", Activation::Linear),
            use_bias: args.bool("use_bias", true),
            kernel_initializer: args.initializer("kernel_initializer", Initializer::GlorotUniform),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let mut out = x.shape.to_vec();
        match out.last_mut() {
            Some(last) => *last = self.units,
            None => return Err(format!("{layer} needs a tensor with at least one axis")),
        }
        Ok(out)
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let cin = input.last().copied().unwrap_or(0);
        let mut weights = vec![Weight {
            name: "kernel",
            shape: vec![cin, self.units],
            trainable: true,
            init: self.kernel_initializer,
            fans: (cin, self.units),
        }];
        if self.use_bias {
            weights.push(Weight::vector("bias", self.units, true, Initializer::Zeros));
        }
        weights
    }

    fn detail(&self) -> String {
        format!("{} units, {}", self.units, self.activation.name())
    }

    fn work(&self, input: &[usize], output: &[usize]) -> u64 {
        product(output).saturating_mul(input.last().copied().unwrap_or(0) as u64)
    }
}
