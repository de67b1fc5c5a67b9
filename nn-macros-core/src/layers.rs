//! The layer catalogue: which layers exist, their arguments (positional and
//! keyword, Keras's names and defaults), and their parsed configuration.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Lit};

/// An activation, as named in Keras.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Act {
    Linear,
    Relu,
    Relu6,
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
    Softmax,
    Elu,
    Selu,
    Softplus,
    HardSigmoid,
    /// Keras's `ReLU` layer with its arguments (`max_value`: `None` is
    /// unbounded).
    ReluWith {
        negative_slope: f32,
        max_value: Option<f32>,
        threshold: f32,
    },
}

/// Which Keras layer an activation is: `Activation('relu')`, or the
/// activation layers `LeakyReLU(...)` and `ReLU(...)` with their own rows.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum ActLayer {
    Activation,
    LeakyReLU,
    ReLU,
}

impl Act {
    pub const NAMES: &'static str =
        "linear, relu, relu6, leaky_relu, sigmoid, tanh, softmax, elu, selu, softplus, hard_sigmoid";

    pub fn from_name(name: &str) -> Option<Act> {
        Some(match name {
            "linear" | "None" => Act::Linear,
            "relu" => Act::Relu,
            "relu6" => Act::Relu6,
            // Keras 3's `activations.leaky_relu` default slope.
            "leaky_relu" => Act::LeakyRelu(0.2),
            "sigmoid" => Act::Sigmoid,
            "tanh" => Act::Tanh,
            "softmax" => Act::Softmax,
            "elu" => Act::Elu,
            "selu" => Act::Selu,
            "softplus" => Act::Softplus,
            "hard_sigmoid" => Act::HardSigmoid,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Act::Linear => "linear",
            Act::Relu => "relu",
            Act::Relu6 => "relu6",
            Act::LeakyRelu(_) => "leaky_relu",
            Act::Sigmoid => "sigmoid",
            Act::Tanh => "tanh",
            Act::Softmax => "softmax",
            Act::Elu => "elu",
            Act::Selu => "selu",
            Act::Softplus => "softplus",
            Act::HardSigmoid => "hard_sigmoid",
            Act::ReluWith { .. } => "relu",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Pad {
    Valid,
    Same,
}

impl Pad {
    pub fn name(self) -> &'static str {
        match self {
            Pad::Valid => "valid",
            Pad::Same => "same",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Init {
    GlorotUniform,
    HeNormal,
    HeUniform,
    Zeros,
    Ones,
}

impl Init {
    const NAMES: &'static str = "glorot_uniform, he_normal, he_uniform, zeros, ones";

    fn from_name(name: &str) -> Option<Init> {
        Some(match name {
            "glorot_uniform" => Init::GlorotUniform,
            "he_normal" => Init::HeNormal,
            "he_uniform" => Init::HeUniform,
            "zeros" => Init::Zeros,
            "ones" => Init::Ones,
            _ => return None,
        })
    }
}

/// An element-wise merge besides `add`: Keras's `Subtract`, `Multiply`,
/// `Average`, `Maximum`, `Minimum` layers.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum MergeOp {
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
}

impl MergeOp {
    pub fn class(self) -> &'static str {
        match self {
            MergeOp::Subtract => "Subtract",
            MergeOp::Multiply => "Multiply",
            MergeOp::Average => "Average",
            MergeOp::Maximum => "Maximum",
            MergeOp::Minimum => "Minimum",
        }
    }

    /// The function form and Keras's automatic name prefix (`subtract_1`).
    pub fn function(self) -> &'static str {
        match self {
            MergeOp::Subtract => "subtract",
            MergeOp::Multiply => "multiply",
            MergeOp::Average => "average",
            MergeOp::Maximum => "maximum",
            MergeOp::Minimum => "minimum",
        }
    }

    pub fn from_class(name: &str) -> Option<MergeOp> {
        [
            MergeOp::Subtract,
            MergeOp::Multiply,
            MergeOp::Average,
            MergeOp::Maximum,
            MergeOp::Minimum,
        ]
        .into_iter()
        .find(|op| op.class() == name)
    }

    pub fn from_function(name: &str) -> Option<MergeOp> {
        [
            MergeOp::Subtract,
            MergeOp::Multiply,
            MergeOp::Average,
            MergeOp::Maximum,
            MergeOp::Minimum,
        ]
        .into_iter()
        .find(|op| op.function() == name)
    }
}

/// An element-wise function Keras writes as an op (`keras.ops.abs(x)`),
/// not a layer: only the function form `abs(x)` exists here, shown in the
/// summary as the Keras 3 operation (`absolute (Absolute)`).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum UnaryOp {
    Abs,
    Square,
    Sqrt,
}

impl UnaryOp {
    /// The Keras 3 operation class (`keras.ops.abs` is `Absolute`).
    pub fn class(self) -> &'static str {
        match self {
            UnaryOp::Abs => "Absolute",
            UnaryOp::Square => "Square",
            UnaryOp::Sqrt => "Sqrt",
        }
    }

    /// Automatic name prefix, the snake case of the class.
    pub fn name_prefix(self) -> &'static str {
        match self {
            UnaryOp::Abs => "absolute",
            UnaryOp::Square => "square",
            UnaryOp::Sqrt => "sqrt",
        }
    }

    /// The function form: `abs(x)`.
    pub fn function(self) -> &'static str {
        match self {
            UnaryOp::Abs => "abs",
            UnaryOp::Square => "square",
            UnaryOp::Sqrt => "sqrt",
        }
    }

    pub fn from_function(name: &str) -> Option<UnaryOp> {
        Some(match name {
            "abs" => UnaryOp::Abs,
            "square" => UnaryOp::Square,
            "sqrt" => UnaryOp::Sqrt,
            _ => return None,
        })
    }
}

/// A layer's parsed configuration.
#[derive(Clone, PartialEq, Debug)]
pub enum Config {
    Input,
    Conv2D {
        filters: usize,
        kernel: (usize, usize),
        strides: (usize, usize),
        padding: Pad,
        activation: Act,
        use_bias: bool,
        kernel_init: Init,
    },
    Dense {
        units: usize,
        activation: Act,
        use_bias: bool,
        kernel_init: Init,
    },
    Pool {
        max: bool,
        size: (usize, usize),
        strides: (usize, usize),
        padding: Pad,
    },
    GlobalAveragePool,
    Flatten,
    Activation(Act, ActLayer),
    BatchNorm {
        momentum: f32,
        epsilon: f32,
    },
    Dropout {
        rate: f32,
    },
    Add,
    Concat,
    Merge(MergeOp),
    Unary(UnaryOp),
    /// `ZeroPadding2D` (`crop: false`) or `Cropping2D`: rows above and
    /// below, columns left and right.
    Border {
        crop: bool,
        top: usize,
        bottom: usize,
        left: usize,
        right: usize,
    },
}

impl Config {
    /// Keras class name, for the summary.
    pub fn class(&self) -> &'static str {
        match self {
            Config::Input => "InputLayer",
            Config::Conv2D { .. } => "Conv2D",
            Config::Dense { .. } => "Dense",
            Config::Pool { max: true, .. } => "MaxPooling2D",
            Config::Pool { max: false, .. } => "AveragePooling2D",
            Config::GlobalAveragePool => "GlobalAveragePooling2D",
            Config::Flatten => "Flatten",
            Config::Activation(_, ActLayer::Activation) => "Activation",
            Config::Activation(_, ActLayer::LeakyReLU) => "LeakyReLU",
            Config::Activation(_, ActLayer::ReLU) => "ReLU",
            Config::BatchNorm { .. } => "BatchNormalization",
            Config::Dropout { .. } => "Dropout",
            Config::Add => "Add",
            Config::Concat => "Concatenate",
            Config::Merge(op) => op.class(),
            Config::Unary(op) => op.class(),
            Config::Border { crop: false, .. } => "ZeroPadding2D",
            Config::Border { crop: true, .. } => "Cropping2D",
        }
    }

    /// Prefix of Keras's automatic names (`conv2d` → `conv2d_1`).
    pub fn name_prefix(&self) -> &'static str {
        match self {
            Config::Input => "input",
            Config::Conv2D { .. } => "conv2d",
            Config::Dense { .. } => "dense",
            Config::Pool { max: true, .. } => "max_pooling2d",
            Config::Pool { max: false, .. } => "average_pooling2d",
            Config::GlobalAveragePool => "global_average_pooling2d",
            Config::Flatten => "flatten",
            Config::Activation(_, ActLayer::Activation) => "activation",
            // Keras 2's automatic names split the class at each capital.
            Config::Activation(_, ActLayer::LeakyReLU) => "leaky_re_lu",
            Config::Activation(_, ActLayer::ReLU) => "re_lu",
            Config::BatchNorm { .. } => "batch_normalization",
            Config::Dropout { .. } => "dropout",
            Config::Add => "add",
            Config::Concat => "concatenate",
            Config::Merge(op) => op.function(),
            Config::Unary(op) => op.name_prefix(),
            Config::Border { crop: false, .. } => "zero_padding2d",
            Config::Border { crop: true, .. } => "cropping2d",
        }
    }

    /// Whether the layer joins several tensors.
    pub fn is_merge(&self) -> bool {
        matches!(self, Config::Add | Config::Concat | Config::Merge(_))
    }

    /// Short description for the graph drawing.
    pub fn detail(&self) -> String {
        match self {
            Config::Conv2D {
                filters,
                kernel,
                strides,
                padding,
                activation,
                ..
            } => format!(
                "{filters} filters {}x{}, strides {}x{}, {}, {}",
                kernel.0,
                kernel.1,
                strides.0,
                strides.1,
                padding.name(),
                activation.name()
            ),
            Config::Dense {
                units, activation, ..
            } => format!("{units} units, {}", activation.name()),
            Config::Pool {
                size,
                strides,
                padding,
                ..
            } => format!(
                "{}x{}, strides {}x{}, {}",
                size.0,
                size.1,
                strides.0,
                strides.1,
                padding.name()
            ),
            Config::Activation(Act::LeakyRelu(alpha), _) => format!("leaky_relu, negative_slope {alpha}"),
            Config::Activation(
                Act::ReluWith {
                    negative_slope,
                    max_value,
                    threshold,
                },
                _,
            ) => format!(
                "relu, max_value {}, negative_slope {negative_slope}, threshold {threshold}",
                max_value.map_or("None".to_string(), |m| m.to_string())
            ),
            Config::Activation(a, _) => a.name().to_string(),
            Config::Dropout { rate } => format!("rate {rate}"),
            Config::Border {
                top,
                bottom,
                left,
                right,
                ..
            } => format!("(({top}, {bottom}), ({left}, {right}))"),
            _ => String::new(),
        }
    }
}

/// What kind of value an argument takes.
#[derive(Clone, Copy)]
enum Kind {
    Int,
    IntOrPair,
    Padding,
    Activation,
    Bool,
    Float,
    Str,
    Initializer,
    /// `n`, `(h, w)` or `((top, bottom), (left, right))`, each ≥ 0.
    Border,
}

impl Kind {
    fn describe(self) -> &'static str {
        match self {
            Kind::Int => "a positive integer",
            Kind::IntOrPair => "an integer or a pair `(h, w)`",
            Kind::Padding => "`same` or `valid`",
            Kind::Activation => "an activation name",
            Kind::Bool => "`true` or `false`",
            Kind::Float => "a number",
            Kind::Str => "a string literal",
            Kind::Initializer => "an initializer name",
            Kind::Border => "an integer, `(rows, columns)` or `((top, bottom), (left, right))`",
        }
    }
}

struct ArgSpec {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn arg(name: &'static str, kind: Kind, required: bool) -> ArgSpec {
    ArgSpec { name, kind, required }
}

/// The constructors users may call, with their arguments in positional order.
fn catalogue(name: &str) -> Option<(&'static str, &'static [ArgSpec])> {
    use Kind::*;
    const NAME: ArgSpec = arg("name", Str, false);
    static CONV: [ArgSpec; 8] = [
        arg("filters", Int, true),
        arg("kernel_size", IntOrPair, true),
        arg("strides", IntOrPair, false),
        arg("padding", Padding, false),
        arg("activation", Activation, false),
        arg("use_bias", Bool, false),
        arg("kernel_initializer", Initializer, false),
        NAME,
    ];
    static DENSE: [ArgSpec; 5] = [
        arg("units", Int, true),
        arg("activation", Activation, false),
        arg("use_bias", Bool, false),
        arg("kernel_initializer", Initializer, false),
        NAME,
    ];
    static POOL: [ArgSpec; 4] = [
        arg("pool_size", IntOrPair, false),
        arg("strides", IntOrPair, false),
        arg("padding", Padding, false),
        NAME,
    ];
    static ONLY_NAME: [ArgSpec; 1] = [NAME];
    static ACTIVATION: [ArgSpec; 2] = [arg("activation", Activation, true), NAME];
    static BATCH_NORM: [ArgSpec; 3] = [arg("momentum", Float, false), arg("epsilon", Float, false), NAME];
    static DROPOUT: [ArgSpec; 2] = [arg("rate", Float, true), NAME];
    static ZERO_PADDING: [ArgSpec; 2] = [arg("padding", Border, false), NAME];
    static CROPPING: [ArgSpec; 2] = [arg("cropping", Border, false), NAME];
    static LEAKY_RELU: [ArgSpec; 3] = [
        arg("alpha", Float, false),
        arg("negative_slope", Float, false),
        NAME,
    ];
    static RELU: [ArgSpec; 4] = [
        arg("max_value", Float, false),
        arg("negative_slope", Float, false),
        arg("threshold", Float, false),
        NAME,
    ];
    Some(match name {
        "Conv2D" => ("Conv2D", &CONV),
        "Dense" => ("Dense", &DENSE),
        "MaxPooling2D" | "MaxPool2D" => ("MaxPooling2D", &POOL),
        "AveragePooling2D" | "AvgPool2D" => ("AveragePooling2D", &POOL),
        "GlobalAveragePooling2D" | "GlobalAvgPool2D" => ("GlobalAveragePooling2D", &ONLY_NAME),
        "Flatten" => ("Flatten", &ONLY_NAME),
        "Activation" => ("Activation", &ACTIVATION),
        "BatchNormalization" => ("BatchNormalization", &BATCH_NORM),
        "Dropout" => ("Dropout", &DROPOUT),
        "Add" => ("Add", &ONLY_NAME),
        "Concatenate" => ("Concatenate", &ONLY_NAME),
        "ZeroPadding2D" => ("ZeroPadding2D", &ZERO_PADDING),
        "Cropping2D" => ("Cropping2D", &CROPPING),
        "LeakyReLU" => ("LeakyReLU", &LEAKY_RELU),
        "ReLU" => ("ReLU", &RELU),
        "Subtract" => ("Subtract", &ONLY_NAME),
        "Multiply" => ("Multiply", &ONLY_NAME),
        "Average" => ("Average", &ONLY_NAME),
        "Maximum" => ("Maximum", &ONLY_NAME),
        "Minimum" => ("Minimum", &ONLY_NAME),
        _ => return None,
    })
}

pub const LAYER_NAMES: &str = "Conv2D, Dense, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, \
     Flatten, Activation, BatchNormalization, Dropout, Add, Concatenate, Subtract, Multiply, Average, \
     Maximum, Minimum, LeakyReLU, ReLU, ZeroPadding2D, Cropping2D";

/// Every constructor name, aliases included (for "did you mean").
pub const ALL_NAMES: &[&str] = &[
    "Conv2D",
    "Dense",
    "MaxPooling2D",
    "MaxPool2D",
    "AveragePooling2D",
    "AvgPool2D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "Flatten",
    "Activation",
    "BatchNormalization",
    "Dropout",
    "Add",
    "Concatenate",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "LeakyReLU",
    "ReLU",
    "ZeroPadding2D",
    "Cropping2D",
];

pub fn is_layer(name: &str) -> bool {
    catalogue(name).is_some()
}

/// A parsed argument value.
#[derive(Clone)]
enum Value {
    Int(usize),
    Pair(usize, usize),
    Padding(Pad),
    Activation(Act),
    Bool(bool),
    Float(f32),
    Str(String),
    Initializer(Init),
    Border([usize; 4]),
}

/// A constructed layer before it is applied: configuration, optional user
/// name, and the span of the constructor call for errors.
pub struct Constructed {
    pub config: Config,
    pub user_name: Option<(String, Span)>,
}

/// Parses `Layer(args...)`. `eval_int` evaluates integer expressions in the
/// caller's scope (block parameters, loop variables, arithmetic).
pub fn construct(
    layer: &syn::Ident,
    args: &[Expr],
    eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>,
) -> Result<Constructed, Vec<syn::Error>> {
    let Some((class, specs)) = catalogue(&layer.to_string()) else {
        return Err(vec![syn::Error::new(
            layer.span(),
            format!("unknown layer `{layer}`"),
        )]);
    };
    let mut errors = Vec::new();
    let mut values: Vec<Option<(Value, Span)>> = vec![None; specs.len()];
    // Given at all, even if invalid: a bad value is not also "missing".
    let mut given = vec![false; specs.len()];
    let mut positional = 0;
    let mut seen_keyword = false;
    for arg_expr in args {
        let (slot, value_expr) = match arg_expr {
            Expr::Assign(assign) => {
                seen_keyword = true;
                let name = match &*assign.left {
                    Expr::Path(p) => p.path.get_ident(),
                    _ => None,
                };
                let key = match name {
                    Some(ident) => ident.to_string(),
                    None => {
                        let other = &*assign.left;
                        errors.push(syn::Error::new_spanned(other, "expected an argument name"));
                        continue;
                    }
                };
                match specs.iter().position(|s| s.name == key) {
                    Some(i) => (i, &*assign.right),
                    None => {
                        let expected: Vec<&str> = specs.iter().map(|s| s.name).collect();
                        let message = match crate::suggest::did_you_mean(&key, expected.iter().copied()) {
                            Some(close) => {
                                format!("{class} has no argument `{key}`; did you mean `{close}`?")
                            }
                            None => format!(
                                "{class} has no argument `{key}`; its arguments are: {}",
                                expected.join(", ")
                            ),
                        };
                        errors.push(syn::Error::new_spanned(&assign.left, message));
                        continue;
                    }
                }
            }
            other => {
                if seen_keyword {
                    errors.push(syn::Error::new_spanned(
                        other,
                        format!("{class}: positional argument after a keyword argument"),
                    ));
                    continue;
                }
                let positional_count = specs.iter().filter(|s| s.name != "name").count();
                if positional >= positional_count {
                    errors.push(syn::Error::new_spanned(
                        other,
                        format!(
                            "{class} takes at most {positional_count} positional argument{}",
                            if positional_count == 1 { "" } else { "s" }
                        ),
                    ));
                    continue;
                }
                positional += 1;
                (positional - 1, other)
            }
        };
        if given[slot] {
            errors.push(syn::Error::new_spanned(
                value_expr,
                format!("{class}: argument `{}` is given twice", specs[slot].name),
            ));
            continue;
        }
        given[slot] = true;
        match parse_value(class, &specs[slot], value_expr, eval_int) {
            Ok(v) => values[slot] = Some((v, value_expr.span())),
            Err(e) => errors.push(e),
        }
    }
    for (spec, given) in specs.iter().zip(&given) {
        if spec.required && !given {
            errors.push(syn::Error::new(
                layer.span(),
                format!(
                    "{class} is missing its `{}` argument ({})",
                    spec.name,
                    spec.kind.describe()
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let get = |name: &str| -> Option<Value> {
        let i = specs.iter().position(|s| s.name == name)?;
        values[i].as_ref().map(|(v, _)| v.clone())
    };
    let int = |name: &str| match get(name) {
        Some(Value::Int(v)) => v,
        _ => 0,
    };
    let pair = |name: &str| match get(name) {
        Some(Value::Int(v)) => Some((v, v)),
        Some(Value::Pair(a, b)) => Some((a, b)),
        _ => None,
    };
    let padding = match get("padding") {
        Some(Value::Padding(p)) => p,
        _ => Pad::Valid,
    };
    let activation = match get("activation") {
        Some(Value::Activation(a)) => a,
        _ => Act::Linear,
    };
    let use_bias = !matches!(get("use_bias"), Some(Value::Bool(false)));
    let kernel_init = match get("kernel_initializer") {
        Some(Value::Initializer(i)) => i,
        _ => Init::GlorotUniform,
    };
    let float = |name: &str, default: f32| match get(name) {
        Some(Value::Float(f)) => f,
        _ => default,
    };
    let span_of = |name: &str| {
        let i = specs.iter().position(|s| s.name == name);
        i.and_then(|i| values[i].as_ref().map(|(_, s)| *s))
            .unwrap_or(layer.span())
    };
    let config = match class {
        "Conv2D" => Config::Conv2D {
            filters: int("filters"),
            kernel: pair("kernel_size").unwrap_or((1, 1)),
            strides: pair("strides").unwrap_or((1, 1)),
            padding,
            activation,
            use_bias,
            kernel_init,
        },
        "Dense" => Config::Dense {
            units: int("units"),
            activation,
            use_bias,
            kernel_init,
        },
        "MaxPooling2D" | "AveragePooling2D" => {
            let size = pair("pool_size").unwrap_or((2, 2));
            Config::Pool {
                max: class == "MaxPooling2D",
                size,
                strides: pair("strides").unwrap_or(size),
                padding,
            }
        }
        "GlobalAveragePooling2D" => Config::GlobalAveragePool,
        "Flatten" => Config::Flatten,
        "Activation" => Config::Activation(activation, ActLayer::Activation),
        // Keras's defaults: one row and column of zeros, no cropping.
        "ZeroPadding2D" | "Cropping2D" => {
            let crop = class == "Cropping2D";
            let key = if crop { "cropping" } else { "padding" };
            let [top, bottom, left, right] = match get(key) {
                Some(Value::Border(b)) => b,
                _ if crop => [0; 4],
                _ => [1; 4],
            };
            Config::Border {
                crop,
                top,
                bottom,
                left,
                right,
            }
        }
        "LeakyReLU" => {
            // Keras 2 calls the slope `alpha`, Keras 3 `negative_slope`.
            let slope = match (get("alpha"), get("negative_slope")) {
                (Some(_), Some(_)) => {
                    return Err(vec![syn::Error::new(
                        span_of("negative_slope"),
                        "LeakyReLU: give `alpha` (Keras 2) or `negative_slope` (Keras 3), not both",
                    )])
                }
                _ => float("alpha", float("negative_slope", 0.3)),
            };
            if slope < 0.0 {
                let at = if get("alpha").is_some() {
                    "alpha"
                } else {
                    "negative_slope"
                };
                return Err(vec![syn::Error::new(
                    span_of(at),
                    format!("LeakyReLU: `{at}` must be ≥ 0 (as in Keras), got {slope}"),
                )]);
            }
            Config::Activation(Act::LeakyRelu(slope), ActLayer::LeakyReLU)
        }
        "ReLU" => {
            let (negative_slope, threshold) = (float("negative_slope", 0.0), float("threshold", 0.0));
            let max_value = match get("max_value") {
                Some(Value::Float(m)) => Some(m),
                _ => None,
            };
            let mut errs = Vec::new();
            if negative_slope < 0.0 {
                errs.push(syn::Error::new(
                    span_of("negative_slope"),
                    format!("ReLU: `negative_slope` must be ≥ 0 (as in Keras), got {negative_slope}"),
                ));
            }
            if threshold < 0.0 {
                errs.push(syn::Error::new(
                    span_of("threshold"),
                    format!("ReLU: `threshold` must be ≥ 0 (as in Keras), got {threshold}"),
                ));
            }
            if let Some(m) = max_value {
                if m <= threshold.max(0.0) {
                    errs.push(syn::Error::new(
                        span_of("max_value"),
                        format!(
                            "ReLU: `max_value` must be greater than 0 and than `threshold` ({threshold}), got {m}"
                        ),
                    ));
                }
            }
            if !errs.is_empty() {
                return Err(errs);
            }
            Config::Activation(
                Act::ReluWith {
                    negative_slope,
                    max_value,
                    threshold,
                },
                ActLayer::ReLU,
            )
        }
        "BatchNormalization" => {
            let (momentum, epsilon) = (float("momentum", 0.99), float("epsilon", 1e-3));
            let mut errs = Vec::new();
            if !(0.0..=1.0).contains(&momentum) {
                errs.push(syn::Error::new(
                    span_of("momentum"),
                    format!("BatchNormalization: `momentum` must be ≥ 0 and ≤ 1, got {momentum}"),
                ));
            }
            if !(epsilon > 0.0 && epsilon.is_finite()) {
                errs.push(syn::Error::new(
                    span_of("epsilon"),
                    format!("BatchNormalization: `epsilon` must be a small positive number, got {epsilon}"),
                ));
            }
            if !errs.is_empty() {
                return Err(errs);
            }
            Config::BatchNorm { momentum, epsilon }
        }
        "Dropout" => {
            let rate = float("rate", 0.0);
            if !(0.0..1.0).contains(&rate) {
                let span = values[0].as_ref().map_or(layer.span(), |(_, s)| *s);
                return Err(vec![syn::Error::new(
                    span,
                    format!("Dropout: `rate` must be ≥ 0 and < 1, got {rate}"),
                )]);
            }
            Config::Dropout { rate }
        }
        "Add" => Config::Add,
        "Concatenate" => Config::Concat,
        other => match MergeOp::from_class(other) {
            Some(op) => Config::Merge(op),
            None => {
                return Err(vec![syn::Error::new(
                    layer.span(),
                    format!("layer `{other}` has no configuration (an internal error; please report it)"),
                )])
            }
        },
    };
    let user_name = match get("name") {
        Some(Value::Str(s)) => {
            let span = specs
                .iter()
                .position(|s| s.name == "name")
                .and_then(|i| values[i].as_ref().map(|(_, sp)| *sp))
                .unwrap_or(layer.span());
            if s.is_empty() {
                return Err(vec![syn::Error::new(
                    span,
                    "a layer name cannot be empty; give one, or leave out `name` \
                     for an automatic one (`dense_1`, ...)",
                )]);
            }
            Some((s, span))
        }
        _ => None,
    };
    Ok(Constructed { config, user_name })
}

fn parse_value(
    class: &str,
    spec: &ArgSpec,
    expr: &Expr,
    eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>,
) -> Result<Value, syn::Error> {
    let wrong = || {
        syn::Error::new_spanned(
            expr,
            format!(
                "{class}: argument `{}` expects {}",
                spec.name,
                spec.kind.describe()
            ),
        )
    };
    let positive = |v: i64, e: &Expr| -> Result<usize, syn::Error> {
        if v <= 0 {
            Err(syn::Error::new_spanned(
                e,
                format!("{class}: `{}` must be at least 1, got {v}", spec.name),
            ))
        } else {
            Ok(v as usize)
        }
    };
    let word = || -> Option<String> {
        match expr {
            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => Some(s.value()),
                _ => None,
            },
            _ => None,
        }
    };
    match spec.kind {
        Kind::Int => positive(eval_int(expr)?, expr).map(Value::Int),
        Kind::IntOrPair => match expr {
            Expr::Tuple(t) if t.elems.len() == 2 => {
                let a = positive(eval_int(&t.elems[0])?, &t.elems[0])?;
                let b = positive(eval_int(&t.elems[1])?, &t.elems[1])?;
                Ok(Value::Pair(a, b))
            }
            Expr::Tuple(_) | Expr::Array(_) => Err(wrong()),
            _ => positive(eval_int(expr)?, expr).map(Value::Int),
        },
        Kind::Padding => match word().as_deref() {
            Some("same") => Ok(Value::Padding(Pad::Same)),
            Some("valid") => Ok(Value::Padding(Pad::Valid)),
            _ => Err(wrong()),
        },
        Kind::Activation => match word() {
            Some(w) => Act::from_name(&w).map(Value::Activation).ok_or_else(|| {
                let names = Act::NAMES.split(", ");
                // Keras activations this runtime lacks are not typos of the
                // ones it has (`gelu` is not `relu`).
                let other_keras = [
                    "gelu",
                    "silu",
                    "swish",
                    "mish",
                    "softsign",
                    "hard_silu",
                    "hard_swish",
                ];
                let close =
                    crate::suggest::did_you_mean(&w, names).filter(|_| !other_keras.contains(&w.as_str()));
                let message = match close {
                    Some(close) => format!("unknown activation `{w}`; did you mean `{close}`?"),
                    None => format!("unknown activation `{w}`; expected one of: {}", Act::NAMES),
                };
                syn::Error::new_spanned(expr, message)
            }),
            None => Err(wrong()),
        },
        Kind::Initializer => match word() {
            Some(w) => Init::from_name(&w).map(Value::Initializer).ok_or_else(|| {
                syn::Error::new_spanned(
                    expr,
                    format!("unknown initializer `{w}`; expected one of: {}", Init::NAMES),
                )
            }),
            None => Err(wrong()),
        },
        Kind::Border => {
            let amount = |e: &Expr, eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>| {
                let v = eval_int(e)?;
                usize::try_from(v).map_err(|_| {
                    syn::Error::new_spanned(
                        e,
                        format!("{class}: `{}` amounts must be ≥ 0, got {v}", spec.name),
                    )
                })
            };
            let pair = |e: &Expr, eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>| match e {
                Expr::Tuple(t) if t.elems.len() == 2 => {
                    Ok((amount(&t.elems[0], eval_int)?, amount(&t.elems[1], eval_int)?))
                }
                Expr::Tuple(_) | Expr::Array(_) => Err(wrong()),
                _ => {
                    let v = amount(e, eval_int)?;
                    Ok((v, v))
                }
            };
            match expr {
                // ((top, bottom), (left, right))
                Expr::Tuple(t)
                    if t.elems.len() == 2 && t.elems.iter().all(|e| matches!(e, Expr::Tuple(_))) =>
                {
                    let (top, bottom) = pair(&t.elems[0], eval_int)?;
                    let (left, right) = pair(&t.elems[1], eval_int)?;
                    Ok(Value::Border([top, bottom, left, right]))
                }
                // (rows, columns): that many on each side.
                Expr::Tuple(t) if t.elems.len() == 2 => {
                    let rows = amount(&t.elems[0], eval_int)?;
                    let columns = amount(&t.elems[1], eval_int)?;
                    Ok(Value::Border([rows, rows, columns, columns]))
                }
                Expr::Tuple(_) | Expr::Array(_) => Err(wrong()),
                _ => {
                    let v = amount(expr, eval_int)?;
                    Ok(Value::Border([v; 4]))
                }
            }
        }
        Kind::Bool => match expr {
            Expr::Lit(l) => match &l.lit {
                Lit::Bool(b) => Ok(Value::Bool(b.value)),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        },
        Kind::Float => {
            // `-0.5` is a negation of a literal: accepted here so the range
            // check can say what is allowed instead of "expects a number".
            let (negative, literal) = match expr {
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => (true, &*u.expr),
                other => (false, other),
            };
            let value = match literal {
                Expr::Lit(l) => match &l.lit {
                    Lit::Float(f) => f.base10_parse::<f32>()?,
                    Lit::Int(i) => i.base10_parse::<f32>()?,
                    _ => return Err(wrong()),
                },
                _ => return Err(wrong()),
            };
            if !value.is_finite() {
                return Err(syn::Error::new_spanned(
                    expr,
                    format!("{class}: `{}` is out of range for an f32", spec.name),
                ));
            }
            Ok(Value::Float(if negative { -value } else { value }))
        }
        Kind::Str => match expr {
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => Ok(Value::Str(s.value())),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        },
    }
}
