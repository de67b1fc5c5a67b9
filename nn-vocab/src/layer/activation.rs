//! Keras's activation layers: `Activation('relu')` (and the function forms
//! `relu(x)`, ...), `LeakyReLU(...)` and `ReLU(...)`. All three compute an
//! [`Activation`](crate::Activation); they differ in how they are written,
//! and so in their summary rows and names.

use crate::activation::Activation as Function;
use crate::argument::{optional, required, Argument, ArgumentError, Arguments, ValueKind};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{single, Operand, ShapeResult};

/// `Activation(relu)`: the function as a layer of its own.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Activation(pub Function);
layer_to_rust!(Activation(function));

/// `LeakyReLU(negative_slope = 0.3)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyReLU {
    pub negative_slope: f32,
}
layer_to_rust!(LeakyReLU { negative_slope });

/// `ReLU(max_value, negative_slope, threshold)`; `max_value` is
/// `f32::INFINITY` when not given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReLU {
    pub max_value: f32,
    pub negative_slope: f32,
    pub threshold: f32,
}
layer_to_rust!(ReLU {
    max_value,
    negative_slope,
    threshold
});

impl LeakyReLU {
    pub fn function(&self) -> Function {
        Function::LeakyRelu(self.negative_slope)
    }
}

impl ReLU {
    pub fn function(&self) -> Function {
        Function::ReluWith {
            negative_slope: self.negative_slope,
            max_value: self.max_value,
            threshold: self.threshold,
        }
    }
}

/// The graph's text for an activation: its name, and its parameters where
/// it has some.
pub fn function_detail(function: Function) -> String {
    match function {
        Function::LeakyRelu(alpha) => format!("leaky_relu, negative_slope {alpha}"),
        Function::ReluWith {
            negative_slope,
            max_value,
            threshold,
        } => format!(
            "relu, max_value {}, negative_slope {negative_slope}, threshold {threshold}",
            if max_value.is_finite() {
                max_value.to_string()
            } else {
                "None".to_string()
            }
        ),
        other => other.name().to_string(),
    }
}

fn same_shape(layer: &str, inputs: &[Operand]) -> ShapeResult {
    Ok(single(layer, inputs)?.shape.to_vec())
}

impl Layer for Activation {
    const DESCRIPTION: Description = Description {
        functions: Function::NAMES,
        ..Description::layer(
            "Activation",
            "activation",
            &[required("activation", ValueKind::Activation)],
        )
    };

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Activation(args.activation("activation", Function::Linear)))
    }

    fn from_function(name: &str) -> Option<Self> {
        Function::NAMES
            .contains(&name)
            .then(|| Function::from_name(name).map(Activation))
            .flatten()
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        same_shape(layer, inputs)
    }

    fn detail(&self) -> String {
        function_detail(self.0)
    }
}

const LEAKY_RELU_ARGUMENTS: &[Argument] = &[
    optional("alpha", ValueKind::Float),
    optional("negative_slope", ValueKind::Float),
];

impl Layer for LeakyReLU {
    const DESCRIPTION: Description =
        // Keras 2's automatic names split the class at each capital.
        Description::layer("LeakyReLU", "leaky_re_lu", LEAKY_RELU_ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        // Keras 2 calls the slope `alpha`, Keras 3 `negative_slope`.
        let (alpha, slope) = (args.float("alpha"), args.float("negative_slope"));
        if alpha.is_some() && slope.is_some() {
            return Err(vec![ArgumentError::at(
                "negative_slope",
                "LeakyReLU: give `alpha` (Keras 2) or `negative_slope` (Keras 3), not both",
            )]);
        }
        let at = if alpha.is_some() {
            "alpha"
        } else {
            "negative_slope"
        };
        let negative_slope = alpha.or(slope).unwrap_or(0.3);
        if negative_slope < 0.0 {
            return Err(vec![ArgumentError::at(
                at,
                format!("LeakyReLU: `{at}` must be ≥ 0 (as in Keras), got {negative_slope}"),
            )]);
        }
        Ok(LeakyReLU { negative_slope })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        same_shape(layer, inputs)
    }

    fn detail(&self) -> String {
        function_detail(self.function())
    }
}

const RELU_ARGUMENTS: &[Argument] = &[
    optional("max_value", ValueKind::Float),
    optional("negative_slope", ValueKind::Float),
    optional("threshold", ValueKind::Float),
];

impl Layer for ReLU {
    const DESCRIPTION: Description = Description::layer("ReLU", "re_lu", RELU_ARGUMENTS);

    fn from_arguments(args: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        let negative_slope = args.float("negative_slope").unwrap_or(0.0);
        let threshold = args.float("threshold").unwrap_or(0.0);
        let mut errors = Vec::new();
        if negative_slope < 0.0 {
            errors.push(ArgumentError::at(
                "negative_slope",
                format!("ReLU: `negative_slope` must be ≥ 0 (as in Keras), got {negative_slope}"),
            ));
        }
        if threshold < 0.0 {
            errors.push(ArgumentError::at(
                "threshold",
                format!("ReLU: `threshold` must be ≥ 0 (as in Keras), got {threshold}"),
            ));
        }
        if let Some(m) = args.float("max_value") {
            if m <= threshold.max(0.0) {
                errors.push(ArgumentError::at(
                    "max_value",
                    format!("ReLU: `max_value` must be greater than 0 and than `threshold` ({threshold}), got {m}"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ReLU {
            max_value: args.float("max_value").unwrap_or(f32::INFINITY),
            negative_slope,
            threshold,
        })
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        same_shape(layer, inputs)
    }

    fn detail(&self) -> String {
        function_detail(self.function())
    }
}
