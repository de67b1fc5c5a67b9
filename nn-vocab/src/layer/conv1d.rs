//! Keras's `Conv1D`.

use crate::activation::Activation;
use crate::argument::{optional, required, Argument, ArgumentError, Arguments, ValueKind};
use crate::conv_axis::ConvAxis;
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::padding::Padding1D;
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_steps, product, single, Operand, ShapeResult};
use crate::weight::Weight;

use super::conv_rules::{groups_divide_channels, groups_divide_filters, kernel_fans, strides_or_dilation};

/// A convolution along the steps of `[steps, channels]`, with Keras's
/// `causal` padding besides `valid` and `same`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv1D {
    pub filters: usize,
    pub kernel_size: usize,
    pub strides: usize,
    pub padding: Padding1D,
    pub dilation_rate: usize,
    pub groups: usize,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Initializer,
}
layer_to_rust!(Conv1D {
    filters,
    kernel_size,
    strides,
    padding,
    dilation_rate,
    groups,
    activation,
    use_bias,
    kernel_initializer
});

const ARGUMENTS: &[Argument] = &[
    required("filters", ValueKind::Int),
    required("kernel_size", ValueKind::Int),
    optional("strides", ValueKind::Int),
    optional("padding", ValueKind::Padding1D),
    optional("dilation_rate", ValueKind::Int),
    optional("groups", ValueKind::Int),
    optional("activation", ValueKind::Activation),
    optional("use_bias", ValueKind::Bool),
    optional("kernel_initializer", ValueKind::Initializer),
];

impl Conv1D {
    /// The convolution along the steps; `None` when the dilated kernel is
    /// larger than a `valid` input.
    pub fn axis(&self, steps: usize) -> Option<ConvAxis> {
        let (k, s, d) = (self.kernel_size, self.strides, self.dilation_rate);
        match self.padding.two_sided() {
            Some(padding) => ConvAxis::new(steps, k, s, d, padding),
            None => ConvAxis::causal(steps, k, s, d),
        }
    }
}

impl Layer for Conv1D {
    const DESCRIPTION: Description = Description {
        aliases: &["Convolution1D"],
        ..Description::layer("Conv1D", "conv1d", ARGUMENTS)
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let layer = Conv1D {
            filters: args.int("filters", 1),
            kernel_size: args.int("kernel_size", 1),
            strides: args.int("strides", 1),
            padding: args.padding1d("padding", Padding1D::Valid),
            dilation_rate: args.int("dilation_rate", 1),
            groups: args.int("groups", 1),
            activation: args.activation("activation", Activation::Linear),
            use_bias: args.bool("use_bias", true),
            kernel_initializer: args.initializer("kernel_initializer", Initializer::GlorotUniform),
        };
        let errors: Vec<ArgumentError> = [
            strides_or_dilation("Conv1D", &[layer.strides], &[layer.dilation_rate]),
            groups_divide_filters("Conv1D", layer.filters, layer.groups),
        ]
        .into_iter()
        .filter_map(Result::err)
        .collect();
        if errors.is_empty() {
            Ok(layer)
        } else {
            Err(errors)
        }
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let (steps, channels) = expect_steps(layer, x)?;
        groups_divide_channels(layer, x, channels, self.groups)?;
        match self.axis(steps) {
            Some(axis) => Ok(vec![axis.output, self.filters]),
            None => Err(format!(
                "{layer}: the kernel of {} (dilated to {}) is longer than {} ({steps} steps) with padding = valid; \
                 use a smaller kernel or padding = same",
                self.kernel_size,
                self.kernel_size.saturating_sub(1).saturating_mul(self.dilation_rate).saturating_add(1),
                x.label
            )),
        }
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let cin = input.last().copied().unwrap_or(0);
        let shape = vec![self.kernel_size, cin / self.groups.max(1), self.filters];
        let mut weights = vec![Weight {
            name: "kernel",
            fans: kernel_fans(&shape),
            shape,
            trainable: true,
            init: self.kernel_initializer,
        }];
        if self.use_bias {
            weights.push(Weight::vector("bias", self.filters, true, Initializer::Zeros));
        }
        weights
    }

    fn detail(&self) -> String {
        let Conv1D {
            filters,
            kernel_size,
            strides,
            padding,
            dilation_rate,
            groups,
            activation,
            ..
        } = self;
        let mut text = format!(
            "{filters} filters {kernel_size}, strides {strides}, {}",
            padding.name()
        );
        if *dilation_rate > 1 {
            text += &format!(", dilation_rate {dilation_rate}");
        }
        if *groups > 1 {
            text += &format!(", groups {groups}");
        }
        text + ", " + activation.name()
    }

    fn work(&self, input: &[usize], output: &[usize]) -> u64 {
        let cin = input.last().copied().unwrap_or(0) / self.groups.max(1);
        product(output)
            .saturating_mul(self.kernel_size as u64)
            .saturating_mul(cin as u64)
    }
}
