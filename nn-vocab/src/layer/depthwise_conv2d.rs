//! Keras's `DepthwiseConv2D`.

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

/// Each input channel convolved with its own `depth_multiplier` filters:
/// `[h, w, c]` to `[h', w', c * depth_multiplier]`, output channel
/// `c * depth_multiplier + m`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthwiseConv2D {
    pub kernel_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    pub depth_multiplier: usize,
    pub dilation_rate: [usize; 2],
    pub activation: Activation,
    pub use_bias: bool,
    pub depthwise_initializer: Initializer,
}
layer_to_rust!(DepthwiseConv2D {
    kernel_size,
    strides,
    padding,
    depth_multiplier,
    dilation_rate,
    activation,
    use_bias,
    depthwise_initializer
});

const ARGUMENTS: &[Argument] = &[
    required("kernel_size", ValueKind::IntOrPair),
    optional("strides", ValueKind::IntOrPair),
    optional("padding", ValueKind::Padding),
    optional("depth_multiplier", ValueKind::Int),
    optional("dilation_rate", ValueKind::IntOrPair),
    optional("activation", ValueKind::Activation),
    optional("use_bias", ValueKind::Bool),
    optional("depthwise_initializer", ValueKind::Initializer),
];

impl DepthwiseConv2D {
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

impl Layer for DepthwiseConv2D {
    const DESCRIPTION: Description = Description::layer("DepthwiseConv2D", "depthwise_conv2d", ARGUMENTS);

    // Keras 3 allows strides and dilation above 1 together here (unlike
    // Conv2D), and so does the kernel.
    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(DepthwiseConv2D {
            kernel_size: args.pair("kernel_size").unwrap_or([1, 1]),
            strides: args.pair("strides").unwrap_or([1, 1]),
            padding: args.padding("padding", Padding::Valid),
            depth_multiplier: args.int("depth_multiplier", 1),
            dilation_rate: args.pair("dilation_rate").unwrap_or([1, 1]),
            activation: args.activation("activation", Activation::Linear),
            use_bias: args.bool("use_bias", true),
            depthwise_initializer: args.initializer("depthwise_initializer", Initializer::GlorotUniform),
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let (h, w, c) = expect_image(layer, x)?;
        let [rows, cols] = image_axes(
            layer,
            x,
            (h, w),
            self.kernel_size,
            self.strides,
            self.dilation_rate,
            self.padding,
        )?;
        Ok(vec![
            rows.output,
            cols.output,
            c.saturating_mul(self.depth_multiplier),
        ])
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let c = input.last().copied().unwrap_or(0);
        let [kh, kw] = self.kernel_size;
        // Keras 3 names it `kernel` (Keras 2 said `depthwise_kernel`).
        let shape = vec![kh, kw, c, self.depth_multiplier];
        let mut weights = vec![Weight {
            name: "kernel",
            fans: kernel_fans(&shape),
            shape,
            trainable: true,
            init: self.depthwise_initializer,
        }];
        if self.use_bias {
            let outputs = c.saturating_mul(self.depth_multiplier);
            weights.push(Weight::vector("bias", outputs, true, Initializer::Zeros));
        }
        weights
    }

    fn detail(&self) -> String {
        let DepthwiseConv2D {
            kernel_size: [kh, kw],
            strides: [sh, sw],
            padding,
            depth_multiplier,
            dilation_rate,
            activation,
            ..
        } = self;
        format!(
            "{kh}x{kw}{}, depth_multiplier {depth_multiplier}, strides {sh}x{sw}, {}, {}",
            dilated(self.kernel_size, *dilation_rate),
            padding.name(),
            activation.name()
        )
    }

    fn work(&self, _input: &[usize], output: &[usize]) -> u64 {
        product(output)
            .saturating_mul(self.kernel_size[0] as u64)
            .saturating_mul(self.kernel_size[1] as u64)
    }
}
