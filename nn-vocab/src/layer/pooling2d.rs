//! Keras's `MaxPooling2D` and `AveragePooling2D`: one window rule, two
//! reductions.

use crate::argument::{optional, Argument, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::padding::Padding;
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, product, single, window, Operand, ShapeResult};

/// The maximum over each window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxPooling2D {
    pub pool_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
}
layer_to_rust!(MaxPooling2D {
    pool_size,
    strides,
    padding
});

/// The mean over each window's in-bounds elements (padding is not counted).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AveragePooling2D {
    pub pool_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
}
layer_to_rust!(AveragePooling2D {
    pool_size,
    strides,
    padding
});

const ARGUMENTS: &[Argument] = &[
    optional("pool_size", ValueKind::IntOrPair),
    optional("strides", ValueKind::IntOrPair),
    optional("padding", ValueKind::Padding),
];

/// `(pool_size, strides, padding)` with Keras's defaults: 2x2, strides equal
/// to the pool size, `valid`.
fn window_arguments(args: &Arguments) -> ([usize; 2], [usize; 2], Padding) {
    let size = args.pair("pool_size").unwrap_or([2, 2]);
    let strides = args.pair("strides").unwrap_or(size);
    (size, strides, args.padding("padding", Padding::Valid))
}

fn pooled_shape(
    layer: &str,
    inputs: &[Operand],
    size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> ShapeResult {
    let x = single(layer, inputs)?;
    let (h, w, c) = expect_image(layer, x)?;
    let (oh, ow) = window(layer, "pooling", x, (h, w), size, strides, padding)?;
    Ok(vec![oh, ow, c])
}

fn detail(size: [usize; 2], strides: [usize; 2], padding: Padding) -> String {
    format!(
        "{}x{}, strides {}x{}, {}",
        size[0],
        size[1],
        strides[0],
        strides[1],
        padding.name()
    )
}

fn work(size: [usize; 2], output: &[usize]) -> u64 {
    product(output)
        .saturating_mul(size[0] as u64)
        .saturating_mul(size[1] as u64)
}

impl Layer for MaxPooling2D {
    const DESCRIPTION: Description = Description {
        aliases: &["MaxPool2D"],
        ..Description::layer("MaxPooling2D", "max_pooling2d", ARGUMENTS)
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let (pool_size, strides, padding) = window_arguments(args);
        Ok(MaxPooling2D {
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
        work(self.pool_size, output)
    }
}

impl Layer for AveragePooling2D {
    const DESCRIPTION: Description = Description {
        aliases: &["AvgPool2D"],
        ..Description::layer("AveragePooling2D", "average_pooling2d", ARGUMENTS)
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let (pool_size, strides, padding) = window_arguments(args);
        Ok(AveragePooling2D {
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
        work(self.pool_size, output)
    }
}
