//! Keras's `SeparableConv2D`.

use crate::activation::Activation;
use crate::argument::{optional, required, Argument, ArgumentError, Arguments, ValueKind};
use crate::conv_axis::ConvAxis;
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::padding::Padding;
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, product, single, Operand, ShapeResult};
use crate::weight::Weight;

use super::conv_rules::{axes_of, dilated, image_axes, kernel_fans};

/// A depthwise convolution (no bias, no activation) followed by a 1x1
/// convolution to `filters` channels with the bias and activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeparableConv2D {
    pub filters: usize,
    pub kernel_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    pub dilation_rate: [usize; 2],
    pub depth_multiplier: usize,
    pub activation: Activation,
    pub use_bias: bool,
    pub depthwise_initializer: Initializer,
    pub pointwise_initializer: Initializer,
}
layer_to_rust!(SeparableConv2D {
    filters,
    kernel_size,
    strides,
    padding,
    dilation_rate,
    depth_multiplier,
    activation,
    use_bias,
    depthwise_initializer,
    pointwise_initializer
});

const ARGUMENTS: &[Argument] = &[
    required("filters", ValueKind::Int),
    required("kernel_size", ValueKind::IntOrPair),
    optional("strides", ValueKind::IntOrPair),
    optional("padding", ValueKind::Padding),
    optional("dilation_rate", ValueKind::IntOrPair),
    optional("depth_multiplier", ValueKind::Int),
    optional("activation", ValueKind::Activation),
    optional("use_bias", ValueKind::Bool),
    optional("depthwise_initializer", ValueKind::Initializer),
    optional("pointwise_initializer", ValueKind::Initializer),
];

impl SeparableConv2D {
    /// The height and width axes for an input `[h, w, c]`; `None` when the
    /// dilated kernel does not fit a `valid` input.
    pub fn axes(&self, input: &[usize]) -> Option<[ConvAxis; 2]> {
        axes_of(
            input,
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )
    }
}

impl Layer for SeparableConv2D {
    const DESCRIPTION: Description = Description {
        aliases: &["SeparableConvolution2D"],
        ..Description::layer("SeparableConv2D", "separable_conv2d", ARGUMENTS)
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(SeparableConv2D {
            filters: args.int("filters", 1),
            kernel_size: args.pair("kernel_size").unwrap_or([1, 1]),
            strides: args.pair("strides").unwrap_or([1, 1]),
            padding: args.padding("padding", Padding::Valid),
            dilation_rate: args.pair("dilation_rate").unwrap_or([1, 1]),
            depth_multiplier: args.int("depth_multiplier", 1),
            activation: args.activation("activation", Activation::Linear),
            use_bias: args.bool("use_bias", true),
            depthwise_initializer: args.initializer("depthwise_initializer", Initializer::GlorotUniform),
            pointwise_initializer: args.initializer("pointwise_initializer", Initializer::GlorotUniform),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let (h, w, _) = expect_image(layer, x)?;
        let [rows, cols] = image_axes(
            layer,
            x,
            (h, w),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )?;
        Ok(vec![rows.output, cols.output, self.filters])
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let c = input.last().copied().unwrap_or(0);
        let [kh, kw] = self.kernel_size;
        let depthwise = vec![kh, kw, c, self.depth_multiplier];
        let pointwise = vec![1, 1, c.saturating_mul(self.depth_multiplier), self.filters];
        let mut weights = vec![
            Weight {
                name: "depthwise_kernel",
                fans: kernel_fans(&depthwise),
                shape: depthwise,
                trainable: true,
                init: self.depthwise_initializer,
            },
            Weight {
                name: "pointwise_kernel",
                fans: kernel_fans(&pointwise),
                shape: pointwise,
                trainable: true,
                init: self.pointwise_initializer,
            },
        ];
        if self.use_bias {
            weights.push(Weight::vector("bias", self.filters, true, Initializer::Zeros));
        }
        weights
    }

    fn detail(&self) -> String {
        let SeparableConv2D {
            filters,
            kernel_size: [kh, kw],
            strides: [sh, sw],
            padding,
            dilation_rate,
            depth_multiplier,
            activation,
            ..
        } = self;
        format!(
            "{filters} filters {kh}x{kw}{}, depth_multiplier {depth_multiplier}, strides {sh}x{sw}, {}, {}",
            dilated(self.kernel_size, *dilation_rate),
            padding.name(),
            activation.name()
        )
    }

    fn work(&self, input: &[usize], output: &[usize]) -> u64 {
        let c = input.last().copied().unwrap_or(0) as u64;
        let pixels = product(&output[..output.len().saturating_sub(1)]);
        let middle = c.saturating_mul(self.depth_multiplier as u64);
        let depthwise = middle
            .saturating_mul(self.kernel_size[0] as u64)
            .saturating_mul(self.kernel_size[1] as u64);
        pixels.saturating_mul(depthwise.saturating_add(middle.saturating_mul(self.filters as u64)))
    }
}
