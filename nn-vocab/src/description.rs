//! What every layer kind declares about itself: its [`Description`] (names
//! and arguments) and its behaviour as a [`Layer`] (construction with
//! validation, shape rule, weights, summary text).

use std::fmt::Debug;

use crate::argument::{Argument, ArgumentError, Arguments};
use crate::rust_source::ToRust;
use crate::shape::{product, Operand, ShapeResult};
use crate::weight::Weight;

/// How many tensors a layer is applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inputs {
    One,
    /// Two or more, all given at once: `add(a, b, c)` (a merge).
    Several,
}

/// The names and arguments of one layer kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Description {
    /// Keras's class name: `Conv2D`; the summary's "Layer (type)".
    pub class: &'static str,
    /// Other constructor names Keras accepts: `MaxPool2D`.
    pub aliases: &'static [&'static str],
    /// Function forms that create the layer with its defaults: `add(a, b)`,
    /// `flatten(x)`.
    pub functions: &'static [&'static str],
    /// Prefix of Keras's automatic names: `conv2d` in `conv2d_1`.
    pub name_prefix: &'static str,
    /// Constructor arguments in Keras's positional order (`name = "..."`,
    /// which every layer takes, is not listed).
    pub arguments: &'static [Argument],
    pub inputs: Inputs,
    /// Whether `network!` code may call the constructor (`InputLayer` is an
    /// `input` statement instead).
    pub constructible: bool,
    /// Messages name the layer by its function (`add`) rather than by its
    /// class and name: Keras shows it as an operation.
    pub named_by_function: bool,
}

impl Description {
    /// A single-input, constructible layer with no aliases or functions;
    /// layers override the rest with struct update syntax.
    pub const fn layer(
        class: &'static str,
        name_prefix: &'static str,
        arguments: &'static [Argument],
    ) -> Self {
        Description {
            class,
            aliases: &[],
            functions: &[],
            name_prefix,
            arguments,
            inputs: Inputs::One,
            constructible: true,
            named_by_function: false,
        }
    }

    /// Whether `name` calls this layer's constructor.
    pub fn is_called(&self, name: &str) -> bool {
        self.constructible && (self.class == name || self.aliases.contains(&name))
    }
}

/// One layer kind: its configuration type and everything the macro and the
/// runtime need to know about it. Kernels and code generation stay per
/// layer elsewhere; see `docs/adding-a-layer.md`.
pub trait Layer: Sized + Copy + PartialEq + Debug + ToRust {
    const DESCRIPTION: Description;

    /// The configuration from checked argument values, with Keras's defaults
    /// applied, or what is wrong with the values.
    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>>;

    /// The configuration a function form creates (`relu(x)`), if `name` is
    /// one of [`Description::functions`].
    fn from_function(name: &str) -> Option<Self> {
        if Self::DESCRIPTION.functions.contains(&name) {
            Self::from_arguments(&Arguments::new()).ok()
        } else {
            None
        }
    }

    /// The output shape for these inputs; `layer` is how messages name it.
    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult;

    /// The weights it owns for an input of this shape, in Keras's order.
    fn weights(&self, _input: &[usize]) -> Vec<Weight> {
        Vec::new()
    }

    /// Short configuration for the graph drawing: `3x3, same, relu`.
    fn detail(&self) -> String {
        String::new()
    }

    /// Multiply-adds (or element reads) per sample, saturating; guards
    /// against networks whose forward pass would not finish.
    fn work(&self, input: &[usize], output: &[usize]) -> u64 {
        product(input).max(product(output))
    }
}
