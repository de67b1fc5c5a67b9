//! Keras's `MaxPooling1D`, `AveragePooling1D` and `GlobalAveragePooling1D`
//! over `[steps, channels]`.

use crate::argument::{optional, Argument, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::padding::{output_len, Padding};
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_steps, product, single, Operand, ShapeResult};

/// The maximum over each window of steps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxPooling1D {
    pub pool_size: usize,
    pub strides: usize,
    pub padding: Padding,
}
layer_to_rust!(MaxPooling1D {
    pool_size,
    strides,
    padding
});

/// The mean over each window's in-bounds steps (padding is not counted).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AveragePooling1D {
    pub pool_size: usize,
    pub strides: usize,
    pub padding: Padding,
}
layer_to_rust!(AveragePooling1D {
    pool_size,
    strides,
    padding
});

/// The mean over the steps: `[steps, c]` to `[c]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalAveragePooling1D;
layer_to_rust!(GlobalAveragePooling1D);

const ARGUMENTS: &[Argument] = &[
    optional("pool_size", ValueKind::Int),
    optional("strides", ValueKind::Int),
    optional("padding", ValueKind::Padding),
];

/// Keras's defaults: a window of 2, strides equal to the window, `valid`.
fn window_arguments(args: &Arguments) -> (usize, usize, Padding) {
    let size = args.int("pool_size", 2);
    (
        size,
        args.int("strides", size),
        args.padding("padding", Padding::Valid),
    )
}

fn pooled_shape(
    layer: &str,
    inputs: &[Operand],
    size: usize,
    strides: usize,
    padding: Padding,
) -> ShapeResult {
    let x = single(layer, inputs)?;
    let (steps, c) = expect_steps(layer, x)?;
    match output_len(steps, size, strides, padding) {
        Some(out) => Ok(vec![out, c]),
        None => Err(format!(
            "{layer}: the pooling window of {size} is longer than {} ({steps} steps) with padding = valid; \
             use a smaller window or padding = same",
            x.label
        )),
    }
}

fn detail(size: usize, strides: usize, padding: Padding) -> String {
    format!("{size}, strides {strides}, {}", padding.name())
}

impl Layer for MaxPooling1D {
    const DESCRIPTION: Description = Description {
        aliases: &["MaxPool1D"],
        ..Description::layer("MaxPooling1D", "max_pooling1d", ARGUMENTS)
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let (pool_size, strides, padding) = window_arguments(args);
        Ok(MaxPooling1D {
            pool_size,
            strides,
            padding,
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        pooled_shape(layer, inputs, self.pool_size, self.strides, self.padding)
    }

    fn detail(&self) -> String {
        detail(self.pool_size, self.strides, self.padding)
    }

    fn work(&self, _input: &[usize], output: &[usize]) -> u64 {
        product(output).saturating_mul(self.pool_size as u64)
    }
}

impl Layer for AveragePooling1D {
    const DESCRIPTION: Description = Description {
        aliases: &["AvgPool1D"],
        ..Description::layer("AveragePooling1D", "average_pooling1d", ARGUMENTS)
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let (pool_size, strides, padding) = window_arguments(args);
        Ok(AveragePooling1D {
            pool_size,
            strides,
            padding,
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        pooled_shape(layer, inputs, self.pool_size, self.strides, self.padding)
    }

    fn detail(&self) -> String {
        detail(self.pool_size, self.strides, self.padding)
    }

    fn work(&self, _input: &[usize], output: &[usize]) -> u64 {
        product(output).saturating_mul(self.pool_size as u64)
    }
}

impl Layer for GlobalAveragePooling1D {
    const DESCRIPTION: Description = Description {
        aliases: &["GlobalAvgPool1D"],
        ..Description::layer("GlobalAveragePooling1D", "global_average_pooling1d", &[])
    };

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(GlobalAveragePooling1D)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let (_, c) = expect_steps(layer, single(layer, inputs)?)?;
        Ok(vec![c])
    }
}
