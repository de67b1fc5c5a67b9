//! Element-wise functions Keras writes as ops (`keras.ops.abs(x)`), not
//! layers: only the function forms `abs(x)`, `square(x)`, `sqrt(x)` exist,
//! shown in the summary as Keras 3's operation (`absolute (Absolute)`).

use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Layer};
use crate::rust_source::layer_to_rust;
use crate::shape::{single, Operand, ShapeResult};

macro_rules! elementwise_function {
    ($(#[$doc:meta])* $ty:ident, class $class:literal, prefix $prefix:literal, function $function:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq)]
        pub struct $ty;
        layer_to_rust!($ty);

        impl Layer for $ty {
            const DESCRIPTION: Description = Description {
                functions: &[$function],
                constructible: false,
                named_by_function: true,
                ..Description::layer($class, $prefix, &[])
            };

            fn from_arguments(_: &Arguments) -> Result<Self, Vec<ArgumentError>> {
                Ok($ty)
            }

            fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
                Ok(single(layer, inputs)?.shape.to_vec())
            }
        }
    };
}

elementwise_function!(
    /// `|x|`.
    Abs, class "Absolute", prefix "absolute", function "abs"
);
elementwise_function!(
    /// `x²`.
    Square, class "Square", prefix "square", function "square"
);
elementwise_function!(
    /// `√x`.
    Sqrt, class "Sqrt", prefix "sqrt", function "sqrt"
);
