//! Keras's `Conv2DTranspose`.

use crate::activation::Activation;
use crate::argument::{optional, required, Argument, ArgumentError, Arguments, ValueKind};
use crate::conv_axis::ConvAxis;
use crate::description::{Description, Layer};
use crate::initializer::Initializer;
use crate::padding::Padding;
use crate::rust_source::layer_to_rust;
use crate::shape::{expect_image, product, single, Operand, ShapeResult};
use crate::weight::Weight;

use super::conv_rules::{dilated, kernel_fans, strides_or_dilation};

/// The transpose (input gradient) of a convolution: each input pixel adds
/// its kernel-weighted copy into a `strides`-spaced output. Output sizes
/// follow Keras: `same` gives `input * strides`, `valid` gives
/// `(input - 1) * strides + max(kernel, strides)`; an `output_padding`
/// sets the size to `(input - 1) * strides + kernel - 2 * pad +
/// output_padding` (`pad = kernel / 2` for `same`, 0 for `valid`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv2DTranspose {
    pub filters: usize,
    pub kernel_size: [usize; 2],
    pub strides: [usize; 2],
    pub padding: Padding,
    /// `None` is Keras's default (the size rule above without it).
    pub output_padding: Option<[usize; 2]>,
    pub dilation_rate: [usize; 2],
    pub activation: Activation,
    pub use_bias: bool,
    pub kernel_initializer: Initializer,
}
layer_to_rust!(Conv2DTranspose {
    filters,
    kernel_size,
    strides,
    padding,
    output_padding,
    dilation_rate,
    activation,
    use_bias,
    kernel_initializer
});

const ARGUMENTS: &[Argument] = &[
    required("filters", ValueKind::Int),
    required("kernel_size", ValueKind::IntOrPair),
    optional("strides", ValueKind::IntOrPair),
    optional("padding", ValueKind::Padding),
    optional("output_padding", ValueKind::CountOrPair),
    optional("dilation_rate", ValueKind::IntOrPair),
    optional("activation", ValueKind::Activation),
    optional("use_bias", ValueKind::Bool),
    optional("kernel_initializer", ValueKind::Initializer),
];

impl Conv2DTranspose {
    /// The forward convolution this layer transposes, per axis: its `input`
    /// is this layer's output length. `None` when the output would be empty.
    pub fn axes(&self, (h, w): (usize, usize)) -> Option<[ConvAxis; 2]> {
        let op = |i: usize| self.output_padding.map(|p| p[i]);
        let axis = |i: usize, n: usize| {
            ConvAxis::transposed(
                n,
                self.kernel_size[i],
                self.strides[i],
                self.dilation_rate[i],
                self.padding,
                op(i),
            )
        };
        Some([axis(0, h)?, axis(1, w)?])
    }
}

impl Layer for Conv2DTranspose {
    const DESCRIPTION: Description = Description {
        aliases: &["Convolution2DTranspose"],
        ..Description::layer("Conv2DTranspose", "conv2d_transpose", ARGUMENTS)
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let layer = Conv2DTranspose {
            filters: args.int("filters", 1),
            kernel_size: args.pair("kernel_size").unwrap_or([1, 1]),
            strides: args.pair("strides").unwrap_or([1, 1]),
            padding: args.padding("padding", Padding::Valid),
            output_padding: args.pair("output_padding"),
            dilation_rate: args.pair("dilation_rate").unwrap_or([1, 1]),
            activation: args.activation("activation", Activation::Linear),
            use_bias: args.bool("use_bias", true),
            kernel_initializer: args.initializer("kernel_initializer", Initializer::GlorotUniform),
        };
        let mut errors = Vec::new();
        if let Err(e) = strides_or_dilation("Conv2DTranspose", &layer.strides, &layer.dilation_rate) {
            errors.push(e);
        }
        if let Some(op) = layer.output_padding {
            if op[0] >= layer.strides[0] || op[1] >= layer.strides[1] {
                errors.push(ArgumentError::at(
                    "output_padding",
                    format!(
                        "Conv2DTranspose: `output_padding` must be smaller than `strides` (as in Keras); got output_padding {op:?} and strides {:?}",
                        layer.strides
                    ),
                ));
            }
        }
        if errors.is_empty() {
            Ok(layer)
        } else {
            Err(errors)
        }
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let x = single(layer, inputs)?;
        let (h, w, _) = expect_image(layer, x)?;
        match self.axes((h, w)) {
            Some([rows, cols]) => Ok(vec![rows.input, cols.input, self.filters]),
            None => Err(format!(
                "{layer}: the output for {} ({h}x{w} spatially) would be empty; use padding = valid or a larger output_padding",
                x.label
            )),
        }
    }

    fn weights(&self, input: &[usize]) -> Vec<Weight> {
        let cin = input.last().copied().unwrap_or(0);
        let [kh, kw] = self.kernel_size;
        let shape = vec![kh, kw, self.filters, cin];
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
        let Conv2DTranspose {
            filters,
            kernel_size: [kh, kw],
            strides: [sh, sw],
            padding,
            output_padding,
            dilation_rate,
            activation,
            ..
        } = self;
        let extra = output_padding.map_or(String::new(), |[a, b]| format!(", output_padding {a}x{b}"));
        format!(
            "{filters} filters {kh}x{kw}{}, strides {sh}x{sw}, {}{extra}, {}",
            dilated(self.kernel_size, *dilation_rate),
            padding.name(),
            activation.name()
        )
    }

    fn work(&self, input: &[usize], _output: &[usize]) -> u64 {
        product(input)
            .saturating_mul(self.kernel_size[0] as u64)
            .saturating_mul(self.kernel_size[1] as u64)
            .saturating_mul(self.filters as u64)
    }
}
