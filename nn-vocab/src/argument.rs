//! A layer's constructor arguments: the table each layer kind declares
//! (names in Keras's positional order, value types, which are required), the
//! values the macro parsed for them, and what a layer's validation says
//! about them.

use crate::activation::Activation;
use crate::initializer::Initializer;
use crate::padding::{Padding, Padding1D};

/// What kind of value an argument takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// A positive integer.
    Int,
    /// A positive integer or a pair `(h, w)`.
    IntOrPair,
    Padding,
    /// `same`, `valid` or `causal` (Conv1D).
    Padding1D,
    /// An integer ≥ 0 or a pair of them (`output_padding`).
    CountOrPair,
    Activation,
    Bool,
    Float,
    Str,
    Initializer,
    /// `n`, `(h, w)` or `((top, bottom), (left, right))`, each ≥ 0.
    Border,
    /// A tuple of integers, negative ones allowed (`Reshape`'s
    /// `target_shape`, `Permute`'s `dims`); a single integer is a 1-tuple.
    Ints,
    /// A signed integer naming an axis (`-1` for the last).
    Axis,
}

impl ValueKind {
    /// For messages: "argument `units` expects a positive integer".
    pub fn describe(self) -> &'static str {
        match self {
            ValueKind::Int => "a positive integer",
            ValueKind::IntOrPair => "an integer or a pair `(h, w)`",
            ValueKind::Padding => "`same` or `valid`",
            ValueKind::Padding1D => "`same`, `valid` or `causal`",
            ValueKind::CountOrPair => "an integer ≥ 0 or a pair `(h, w)` of them",
            ValueKind::Activation => "an activation name",
            ValueKind::Bool => "`true` or `false`",
            ValueKind::Float => "a number",
            ValueKind::Str => "a string literal",
            ValueKind::Initializer => "an initializer name",
            ValueKind::Border => "an integer, `(rows, columns)` or `((top, bottom), (left, right))`",
            ValueKind::Ints => "a tuple of integers, like `(4, -1)`",
            ValueKind::Axis => "an axis, like `-1`",
        }
    }
}

/// One constructor argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argument {
    pub name: &'static str,
    pub kind: ValueKind,
    pub required: bool,
}

/// A required argument.
pub const fn required(name: &'static str, kind: ValueKind) -> Argument {
    Argument {
        name,
        kind,
        required: true,
    }
}

/// An argument with a default (the layer's constructor applies it).
pub const fn optional(name: &'static str, kind: ValueKind) -> Argument {
    Argument {
        name,
        kind,
        required: false,
    }
}

/// The argument every layer takes besides its own: `name = "..."`.
pub const NAME: Argument = optional("name", ValueKind::Str);

/// The other argument every layer takes: `trainable = false` freezes its
/// weights (Keras's `trainable`); a no-op on a layer without weights.
pub const TRAINABLE: Argument = optional("trainable", ValueKind::Bool);

/// Arguments every layer takes, after its own; never positional.
pub const COMMON: [Argument; 2] = [NAME, TRAINABLE];

/// A parsed argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(usize),
    Pair([usize; 2]),
    Padding(Padding),
    Padding1D(Padding1D),
    Activation(Activation),
    Bool(bool),
    Float(f32),
    Str(String),
    Initializer(Initializer),
    /// `[[top, bottom], [left, right]]`.
    Border([[usize; 2]; 2]),
    Ints(Vec<i64>),
    Axis(i64),
}

/// The values given for one constructor call, by argument name. The parser
/// has already checked each value against its argument's [`ValueKind`] and
/// that every required argument is present.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Arguments {
    values: Vec<(&'static str, Value)>,
}

impl Arguments {
    pub fn new() -> Self {
        Arguments::default()
    }

    pub fn set(&mut self, name: &'static str, value: Value) {
        self.values.retain(|(n, _)| *n != name);
        self.values.push((name, value));
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    pub fn is_given(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// A positive integer argument, or `default`.
    pub fn int(&self, name: &str, default: usize) -> usize {
        match self.get(name) {
            Some(Value::Int(v)) => *v,
            _ => default,
        }
    }

    /// `n` as `[n, n]`, or a pair.
    pub fn pair(&self, name: &str) -> Option<[usize; 2]> {
        match self.get(name) {
            Some(Value::Int(v)) => Some([*v, *v]),
            Some(Value::Pair(p)) => Some(*p),
            _ => None,
        }
    }

    pub fn padding(&self, name: &str, default: Padding) -> Padding {
        match self.get(name) {
            Some(Value::Padding(p)) => *p,
            _ => default,
        }
    }

    pub fn padding1d(&self, name: &str, default: Padding1D) -> Padding1D {
        match self.get(name) {
            Some(Value::Padding1D(p)) => *p,
            _ => default,
        }
    }

    pub fn activation(&self, name: &str, default: Activation) -> Activation {
        match self.get(name) {
            Some(Value::Activation(a)) => *a,
            _ => default,
        }
    }

    pub fn bool(&self, name: &str, default: bool) -> bool {
        match self.get(name) {
            Some(Value::Bool(b)) => *b,
            _ => default,
        }
    }

    pub fn float(&self, name: &str) -> Option<f32> {
        match self.get(name) {
            Some(Value::Float(f)) => Some(*f),
            _ => None,
        }
    }

    pub fn initializer(&self, name: &str, default: Initializer) -> Initializer {
        match self.get(name) {
            Some(Value::Initializer(i)) => *i,
            _ => default,
        }
    }

    pub fn ints(&self, name: &str) -> Option<Vec<i64>> {
        match self.get(name) {
            Some(Value::Ints(v)) => Some(v.clone()),
            _ => None,
        }
    }

    pub fn axis(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Axis(a)) => Some(*a),
            _ => None,
        }
    }

    pub fn border(&self, name: &str) -> Option<[[usize; 2]; 2]> {
        match self.get(name) {
            Some(Value::Border(b)) => Some(*b),
            _ => None,
        }
    }
}

/// A value the layer refuses, with the argument to point at (`None`: the
/// whole call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgumentError {
    pub argument: Option<&'static str>,
    pub message: String,
}

impl ArgumentError {
    pub fn at(argument: &'static str, message: impl Into<String>) -> Self {
        ArgumentError {
            argument: Some(argument),
            message: message.into(),
        }
    }
}
