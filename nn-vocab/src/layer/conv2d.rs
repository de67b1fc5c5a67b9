//! Keras's `Conv2D`.

use std::fmt;

use crate::activation::Activation;
use crate::argument::{optional, required, Argument, ArgumentError, Arguments, ValueKind};
use crate::conv_axis::ConvAxis;
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::padding::Padding;
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, product, single, window, Operand, ShapeResult};
use crate::weight::Weight;

use super::conv_rules::{
    axes_of, dilated, groups_divide_channels, groups_divide_filters, image_axes, strides_or_dilation,
};

/// A 2-D convolution over `[height, width, channels]`; pairs are
/// `[height, width]`. With `groups`, output channel `o` sees only the
/// input channels of its group (`o / (filters / groups)`).
#[derive(Clone, Copy, PartialEq)]
pub struct Conv2D {
    pub filters: usize,
    pub kernel_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Initializer,
    pub dilation_rate: [usize; 2],
    pub groups: usize,
}
layer_to_rust!(Conv2D {
    filters,
    kernel_size,
    strides,
    padding,
    activation,
    use_bias,
    kernel_initializer,
    dilation_rate,
    groups
});

/// The text weight files' architecture fingerprints are taken of: without
/// `dilation_rate` and `groups` when they are Keras's defaults, so files
/// saved before those arguments existed still load.
impl fmt::Debug for Conv2D {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Conv2D");
        s.field("filters", &self.filters)
            .field("kernel_size", &self.kernel_size)
            .field("strides", &self.strides)
            .field("padding", &self.padding)
            .field("activation", &self.activation)
            .field("use_bias", &self.use_bias)
            .field("kernel_initializer", &self.kernel_initializer);
        if !self.is_plain() {
            s.field("dilation_rate", &self.dilation_rate)
                .field("groups", &self.groups);
        }
        s.finish()
    }
}

impl Conv2D {
    /// No dilation and one group: the plain convolution kernel, which
    /// fuses residual adds and writes into concatenations.
    pub fn is_plain(&self) -> bool {
        self.dilation_rate == [1, 1] && self.groups == 1
    }

    /// The height and width axes for an input `[h, w, ..]`; `None` when the
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

const ARGUMENTS: &[Argument] = &[
    required("filters", ValueKind::Int),
    required("kernel_size", ValueKind::IntOrPair),
    optional("strides", ValueKind::IntOrPair),
    optional("padding", ValueKind::Padding),
    optional("activation", ValueKind::Activation),
    optional("use_bias", ValueKind::Bool),
    optional("kernel_initializer", ValueKind::Initializer),
    optional("dilation_rate", ValueKind::IntOrPair),
    optional("groups", ValueKind::Int),
];

impl Layer for Conv2D {
    const DESCRIPTION: Description = Description::layer("Conv2D", "conv2d", ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let layer = Conv2D {
            filters: args.int("filters", 1),
            kernel_size: args.pair("kernel_size").unwrap_or([1, 1]),
            strides: args.pair("strides").unwrap_or([1, 1]),
            padding: args.padding("padding", Padding::Valid),
            activation: args.activation("activation", Activation::Linear),
            use_bias: args.bool("use_bias", true),
            kernel_initializer: args.initializer("kernel_initializer", Initializer::GlorotUniform),
            dilation_rate: args.pair("dilation_rate").unwrap_or([1, 1]),
            groups: args.int("groups", 1),
        };
        let errors: Vec<ArgumentError> = [
            strides_or_dilation("Conv2D", &layer.strides, &layer.dilation_rate),
            groups_divide_filters("Conv2D", layer.filters, layer.groups),
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
        let (h, w, c) = expect_image(layer, x)?;
        if !self.is_plain() {
            groups_divide_channels(layer, x, c, self.groups)?;
            let [rows, cols] = image_axes(
                layer,
                x,
                (h, w),
                self.kernel_size,
                self.strides,
                self.dilation_rate,
                self.padding,
            )?;
            return Ok(vec![rows.output, cols.output, self.filters]);
        }
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
        let cin = input.last().copied().unwrap_or(0) / self.groups.max(1);
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
        let groups = if self.groups > 1 {
            format!(", groups {}", self.groups)
        } else {
            String::new()
        };
        format!(
            "{filters} filters {kh}x{kw}{}, strides {sh}x{sw}, {}{groups}, {}",
            dilated(self.kernel_size, self.dilation_rate),
            padding.name(),
            activation.name()
        )
    }

    fn work(&self, input: &[usize], output: &[usize]) -> u64 {
        let last = (input.last().copied().unwrap_or(0) / self.groups.max(1)) as u64;
        product(output)
            .saturating_mul(self.kernel_size[0] as u64)
            .saturating_mul(self.kernel_size[1] as u64)
            .saturating_mul(last)
    }
}
