//! Keras's `Conv2D`.

use crate::activation::Activation;
use crate::argument::{optional, required, Argument, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::padding::Padding;
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, product, single, window, Operand, ShapeResult};
use crate::weight::Weight;

/// A 2-D convolution over `[height, width, channels]`; pairs are
/// `[height, width]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv2D {
    pub filters: usize,
    pub kernel_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Initializer,
}
layer_to_rust!(Conv2D {
    filters,
    kernel_size,
    strides,
    padding,
    activation,
    use_bias,
    kernel_initializer
});

const ARGUMENTS: &[Argument] = &[
    required("filters", ValueKind::Int),
    required("kernel_size", ValueKind::IntOrPair),
    optional("strides", ValueKind::IntOrPair),
    optional("padding", ValueKind::Padding),
    optional("activation", ValueKind::Activation),
    optional("use_bias", ValueKind::Bool),
    optional("kernel_initializer", ValueKind::Initializer),
];

impl Layer for Conv2D {
    const DESCRIPTION: Description = Description::layer("Conv2D", "conv2d", ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Conv2D {
            filters: args.int("filters", 1),
            kernel_size: args.pair("kernel_size").unwrap_or([1, 1]),
            strides: args.pair("strides").unwrap_or([1, 1]),
            padding: args.padding("padding", Padding::Valid),
            activation: args.activation("activation", Activation::Linear),
            use_bias: args.bool("use_bias", true),
            kernel_initializer: args.initializer("kernel_initializer", Initializer::GlorotUniform),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let (h, w, _) = expect_image(layer, x)?;
        let (oh, ow) = window(
            layer,
            "kernel",
            x,
            (h, w),
            self.kernel_size,
            self.strides,
            self.padding,
        )?;
        Ok(vec![oh, ow, self.filters])
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let cin = input.last().copied().unwrap_or(0);
        let [kh, kw] = self.kernel_size;
        let field = kh.saturating_mul(kw);
        let mut weights = vec![Weight {
            name: "kernel",
            shape: vec![kh, kw, cin, self.filters],
            trainable: true,
            init: self.kernel_initializer,
            fans: (field.saturating_mul(cin), field.saturating_mul(self.filters)),
        }];
        if self.use_bias {
            weights.push(Weight::vector("bias", self.filters, true, Initializer::Zeros));
        }
        weights
    }

    fn detail(&self) -> String {
        let Conv2D {
            filters,
            kernel_size: [kh, kw],
            strides: [sh, sw],
            padding,
            activation,
            ..
        } = self;
        format!(
            "{filters} filters {kh}x{kw}, strides {sh}x{sw}, {}, {}",
            padding.name(),
            activation.name()
        )
    }

    fn work(&self, input: &[usize], output: &[usize]) -> u64 {
        let last = input.last().copied().unwrap_or(0) as u64;
        product(output)
            .saturating_mul(self.kernel_size[0] as u64)
            .saturating_mul(self.kernel_size[1] as u64)
            .saturating_mul(last)
    }
}
