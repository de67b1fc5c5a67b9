//! Keras's merge layers, each also written as a function of two or more
//! tensors: `Add` (`add`), `Concatenate` (`concat`), `Subtract`,
//! `Multiply`, `Average`, `Maximum`, `Minimum`.

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Inputs, Layer};
use crate::merge_op::MergeOp;
use crate::rust_source::layer_to_rust;
use crate::shape::{show, Operand, ShapeResult};

/// A merge layer with no arguments, shown in messages by its function name.
const fn merge(class: &'static str, functions: &'static [&'static str]) -> Description {
    Description {
        functions,
        inputs: Inputs::Several,
        named_by_function: true,
        ..Description::layer(class, functions[0], &[])
    }
}

fn first<'a, 'b>(
    layer: &str,
    inputs: &'a [Operand<'b>],
) -> Result<(&'a Operand<'b>, &'a [Operand<'b>]), String> {
    inputs
        .split_first()
        .ok_or_else(|| format!("{layer} needs at least one tensor"))
}

/// The common shape of element-wise merges.
fn equal_shapes(layer: &str, inputs: &[Operand]) -> ShapeResult {
    let (first, rest) = first(layer, inputs)?;
    for other in rest {
        if other.shape != first.shape {
            return Err(format!(
                "{layer}: {} is {} but {} is {}; {layer} needs equal shapes",
                first.label,
                show(first.shape),
                other.label,
                show(other.shape)
            ));
        }
    }
    Ok(first.shape.to_vec())
}

/// Element-wise sum of two or more tensors of one shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Add;
layer_to_rust!(Add);

impl Layer for Add {
    const DESCRIPTION: Description = merge("Add", &["add"]);

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Add)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        equal_shapes(layer, inputs)
    }
}

/// Joins two or more tensors along the last axis (`axis = -1`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Concatenate;
layer_to_rust!(Concatenate);

impl Layer for Concatenate {
    const DESCRIPTION: Description = Description {
        name_prefix: "concatenate",
        ..merge("Concatenate", &["concat", "concatenate"])
    };

    fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
        Ok(Concatenate)
    }

    fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
        let (first, rest) = first(layer, inputs)?;
        let rank = first.shape.len();
        if rank == 0 {
            return Err(format!("{layer} needs tensors with at least one axis"));
        }
        let mut channels = first.shape[rank - 1];
        for other in rest {
            if other.shape.len() != rank || other.shape[..rank - 1] != first.shape[..rank - 1] {
                return Err(format!(
                    "{layer}: {} is {} but {} is {}; concat joins the last axis, so all other axes must match",
                    first.label,
                    show(first.shape),
                    other.label,
                    show(other.shape)
                ));
            }
            channels = channels.saturating_add(other.shape[rank - 1]);
        }
        let mut out = first.shape.to_vec();
        out[rank - 1] = channels;
        Ok(out)
    }
}

/// An element-wise merge computed by `nn_runtime::elementwise_merge`.
macro_rules! elementwise_merge {
    ($(#[$doc:meta])* $ty:ident, $function:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $ty;
        layer_to_rust!($ty);

        impl Layer for $ty {
            const DESCRIPTION: Description = merge(stringify!($ty), &[$function]);

            fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
                Ok($ty)
            }

            fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
                if MergeOp::$ty == MergeOp::Subtract && inputs.len() != 2 {
                    return Err(format!(
                        "{layer} takes exactly two tensors (the first minus the second), got {}",
                        inputs.len()
                    ));
                }
                equal_shapes(layer, inputs)
            }
        }
    };
}

elementwise_merge!(
    /// `a - b`.
    Subtract,
    "subtract"
);
elementwise_merge!(
    /// Element-wise product of two or more tensors.
    Multiply,
    "multiply"
);
elementwise_merge!(
    /// Element-wise mean of two or more tensors.
    Average,
    "average"
);
elementwise_merge!(
    /// Element-wise maximum of two or more tensors.
    Maximum,
    "maximum"
);
elementwise_merge!(
    /// Element-wise minimum of two or more tensors.
    Minimum,
    "minimum"
);
