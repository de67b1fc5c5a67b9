//! [`LayerConfig`]: any layer kind with its configuration — the one type the
//! macro parses into, emits, and the runtime reads. The enum and its
//! dispatch are generated from the list at the bottom, so a new layer kind
//! is one line here (plus its file in `layer/`).

use std::fmt;

use crate::activation::Activation;
use crate::argument::{ArgumentError, Arguments};
use crate::description::{Description, Inputs, Layer};
use crate::layer;
use crate::merge_op::MergeOp;
use crate::rust_source::{RustSource, ToRust};
use crate::shape::{Operand, ShapeResult};
use crate::unary_op::UnaryOp;
use crate::weight::Weight;

macro_rules! layer_configs {
    ($( $(#[$doc:meta])* $variant:ident ),* $(,)?) => {
        /// A layer kind and its configuration (Keras's defaults applied).
        #[derive(Clone, Copy, PartialEq)]
        pub enum LayerConfig {
            $( $(#[$doc])* $variant(layer::$variant), )*
        }

        $(
            impl From<layer::$variant> for LayerConfig {
                fn from(layer: layer::$variant) -> Self {
                    LayerConfig::$variant(layer)
                }
            }
        )*

        impl LayerConfig {
            /// Every layer kind's description, in the order messages list them.
            pub const DESCRIPTIONS: &'static [Description] = &[
                $( <layer::$variant as Layer>::DESCRIPTION, )*
            ];

            pub fn description(&self) -> &'static Description {
                match self {
                    $( LayerConfig::$variant(_) => &<layer::$variant as Layer>::DESCRIPTION, )*
                }
            }

            /// Builds the layer whose constructor is called `name` (class or
            /// alias); `None` if no layer has that constructor.
            pub fn from_constructor(name: &str, args: &Arguments) -> Option<Result<LayerConfig, Vec<ArgumentError>>> {
                $(
                    if <layer::$variant as Layer>::DESCRIPTION.is_called(name) {
                        return Some(<layer::$variant as Layer>::from_arguments(args).map(LayerConfig::$variant));
                    }
                )*
                None
            }

            /// The layer a function form creates: `add`, `flatten`, `relu`, ...
            pub fn from_function(name: &str) -> Option<LayerConfig> {
                $(
                    if let Some(layer) = <layer::$variant as Layer>::from_function(name) {
                        return Some(LayerConfig::$variant(layer));
                    }
                )*
                None
            }

            /// The output shape for these inputs, or what does not fit;
            /// `layer` is how messages name the layer.
            pub fn output_shape(&self, layer: &str, inputs: &[Operand]) -> ShapeResult {
                match self {
                    $( LayerConfig::$variant(l) => l.output_shape(layer, inputs), )*
                }
            }

            /// Its weight tensors for an input of this shape, in Keras's order.
            pub fn weights(&self, input: &[usize]) -> Vec<Weight> {
                match self {
                    $( LayerConfig::$variant(l) => l.weights(input), )*
                }
            }

            /// Short configuration for the graph drawing.
            pub fn detail(&self) -> String {
                match self {
                    $( LayerConfig::$variant(l) => l.detail(), )*
                }
            }

            /// Multiply-adds (or element reads) per sample, saturating.
            pub fn work(&self, input: &[usize], output: &[usize]) -> u64 {
                match self {
                    $( LayerConfig::$variant(l) => l.work(input, output), )*
                }
            }
        }

        impl ToRust for LayerConfig {
            fn write_rust(&self, out: &mut RustSource) {
                match self {
                    $( LayerConfig::$variant(l) => {
                        out.path(concat!("LayerConfig::", stringify!($variant), "("));
                        l.write_rust(out);
                        out.raw(")");
                    } )*
                }
            }
        }

        /// Shows the layer's own configuration (`Conv2D { filters: 8, .. }`):
        /// the text weight files' architecture fingerprints are taken of.
        impl fmt::Debug for LayerConfig {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( LayerConfig::$variant(l) => fmt::Debug::fmt(l, f), )*
                }
            }
        }
    };
}

layer_configs! {
    /// A network input (Keras's `InputLayer`).
    Input,
    Conv2D,
    Dense,
    MaxPooling2D,
    AveragePooling2D,
    GlobalAveragePooling2D,
    Flatten,
    Activation,
    BatchNormalization,
    Dropout,
    Add,
    Concatenate,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
    LeakyReLU,
    ReLU,
    ZeroPadding2D,
    Cropping2D,
    Abs,
    Square,
    Sqrt,
    GlobalMaxPooling2D,
    UpSampling2D,
    Reshape,
    Permute,
    LayerNormalization,
    DepthwiseConv2D,
    SeparableConv2D,
    Conv2DTranspose,
    Conv1D,
    MaxPooling1D,
    AveragePooling1D,
    GlobalAveragePooling1D,
    Identity,
    /// A user-defined layer (`nn::CustomLayer`).
    Custom,
}

impl LayerConfig {
    /// Keras's class name: `Conv2D`, `MaxPooling2D`, `InputLayer`, ...
    pub fn class(&self) -> &'static str {
        self.description().class
    }

    /// Prefix of Keras's automatic layer names (`conv2d` in `conv2d_1`).
    pub fn name_prefix(&self) -> &'static str {
        self.description().name_prefix
    }

    /// Whether the layer joins several tensors.
    pub fn is_merge(&self) -> bool {
        self.description().inputs == Inputs::Several
    }

    /// The description of the layer kind whose constructor is `name`.
    pub fn constructor(name: &str) -> Option<&'static Description> {
        Self::DESCRIPTIONS.iter().find(|d| d.is_called(name))
    }

    /// Every function form (`add`, `concat`, `relu`, ...), in list order.
    pub fn function_names() -> impl Iterator<Item = &'static str> {
        Self::DESCRIPTIONS
            .iter()
            .flat_map(|d| d.functions.iter().copied())
    }

    /// Every constructor name, aliases included, in list order.
    pub fn constructor_names() -> impl Iterator<Item = &'static str> {
        Self::DESCRIPTIONS
            .iter()
            .filter(|d| d.constructible)
            .flat_map(|d| std::iter::once(d.class).chain(d.aliases.iter().copied()))
    }

    /// The layer's weight names in Keras's order (`kernel`, `bias`), which
    /// do not depend on the input shape.
    pub fn weight_names(&self) -> Vec<&'static str> {
        self.weights(&[1]).iter().map(|w| w.name).collect()
    }

    /// The activation a layer applies to its output: the whole layer for
    /// `Activation`, `LeakyReLU` and `ReLU`, the fused one of `Conv2D` and
    /// `Dense`; `None` for layers without one.
    pub fn activation(&self) -> Option<Activation> {
        match self {
            LayerConfig::Conv2D(l) => Some(l.activation),
            LayerConfig::Dense(l) => Some(l.activation),
            LayerConfig::DepthwiseConv2D(l) => Some(l.activation),
            LayerConfig::SeparableConv2D(l) => Some(l.activation),
            LayerConfig::Conv2DTranspose(l) => Some(l.activation),
            LayerConfig::Conv1D(l) => Some(l.activation),
            LayerConfig::Activation(l) => Some(l.0),
            LayerConfig::LeakyReLU(l) => Some(l.function()),
            LayerConfig::ReLU(l) => Some(l.function()),
            _ => None,
        }
    }

    /// Whether the layer is only an activation (`Activation`, `LeakyReLU`, `ReLU`).
    pub fn is_activation_layer(&self) -> bool {
        matches!(
            self,
            LayerConfig::Activation(_) | LayerConfig::LeakyReLU(_) | LayerConfig::ReLU(_)
        )
    }

    /// The merge an element-wise merge layer computes (not `Add`, whose
    /// kernels are separate, nor `Concatenate`).
    pub fn merge_op(&self) -> Option<MergeOp> {
        match self {
            LayerConfig::Subtract(_) => Some(MergeOp::Subtract),
            LayerConfig::Multiply(_) => Some(MergeOp::Multiply),
            LayerConfig::Average(_) => Some(MergeOp::Average),
            LayerConfig::Maximum(_) => Some(MergeOp::Maximum),
            LayerConfig::Minimum(_) => Some(MergeOp::Minimum),
            _ => None,
        }
    }

    /// The function an element-wise function layer computes.
    pub fn unary_op(&self) -> Option<UnaryOp> {
        match self {
            LayerConfig::Abs(_) => Some(UnaryOp::Abs),
            LayerConfig::Square(_) => Some(UnaryOp::Square),
            LayerConfig::Sqrt(_) => Some(UnaryOp::Sqrt),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argument::Value;

    #[test]
    fn names_are_unambiguous() {
        let mut constructors: Vec<&str> = LayerConfig::constructor_names().collect();
        let count = constructors.len();
        constructors.sort_unstable();
        constructors.dedup();
        assert_eq!(constructors.len(), count, "a constructor name is used twice");
        let mut functions: Vec<&str> = LayerConfig::function_names().collect();
        let count = functions.len();
        functions.sort_unstable();
        functions.dedup();
        assert_eq!(functions.len(), count, "a function name is used twice");
        let mut prefixes: Vec<&str> = LayerConfig::DESCRIPTIONS.iter().map(|d| d.name_prefix).collect();
        prefixes.sort_unstable();
        prefixes.dedup();
        assert_eq!(
            prefixes.len(),
            LayerConfig::DESCRIPTIONS.len(),
            "two kinds share a name prefix"
        );
    }

    #[test]
    fn every_function_form_builds_its_own_kind() {
        for description in LayerConfig::DESCRIPTIONS {
            for function in description.functions {
                let config = LayerConfig::from_function(function)
                    .unwrap_or_else(|| panic!("`{function}` builds no layer"));
                assert_eq!(config.class(), description.class, "`{function}`");
            }
        }
        assert_eq!(LayerConfig::from_function("Dense"), None);
    }

    #[test]
    fn constructors_find_kinds_by_class_and_alias_only_when_callable() {
        let none = Arguments::new();
        let pool = LayerConfig::from_constructor("MaxPool2D", &none)
            .unwrap()
            .unwrap();
        assert_eq!(pool.class(), "MaxPooling2D");
        assert!(LayerConfig::from_constructor("InputLayer", &none).is_none());
        assert!(LayerConfig::from_constructor("Absolute", &none).is_none());
        assert!(LayerConfig::from_constructor("Conv3D", &none).is_none());
    }

    #[test]
    fn validation_names_the_argument() {
        let mut args = Arguments::new();
        args.set("rate", Value::Float(1.5));
        let errors = LayerConfig::from_constructor("Dropout", &args)
            .unwrap()
            .unwrap_err();
        assert_eq!(errors[0].argument, Some("rate"));
        assert!(errors[0].message.contains("got 1.5"), "{}", errors[0].message);
    }

    #[test]
    fn weights_follow_keras_layouts() {
        let mut args = Arguments::new();
        args.set("filters", Value::Int(8));
        args.set("kernel_size", Value::Pair([3, 5]));
        let conv = LayerConfig::from_constructor("Conv2D", &args).unwrap().unwrap();
        let weights = conv.weights(&[32, 32, 3]);
        assert_eq!(weights[0].shape, [3, 5, 3, 8]);
        assert_eq!(weights[0].fans, (45, 120));
        assert_eq!(weights[1].shape, [8]);
        let bn = LayerConfig::from_constructor("BatchNormalization", &Arguments::new())
            .unwrap()
            .unwrap();
        let trainable: Vec<bool> = bn.weights(&[4]).iter().map(|w| w.trainable).collect();
        assert_eq!(trainable, [true, true, false, false]);
        assert_eq!(
            bn.weight_names(),
            ["gamma", "beta", "moving_mean", "moving_variance"]
        );
    }

    #[test]
    fn written_rust_names_every_field() {
        let relu = LayerConfig::ReLU(layer::ReLU {
            max_value: f32::INFINITY,
            negative_slope: 0.5,
            threshold: 1e-7,
        });
        assert_eq!(
            relu.to_rust("v"),
            "v::LayerConfig::ReLU(v::layer::ReLU { max_value: ::core::primitive::f32::INFINITY, \
             negative_slope: 0.5f32, threshold: 1e-7f32, })"
        );
        let pad = LayerConfig::ZeroPadding2D(layer::ZeroPadding2D {
            padding: [[1, 2], [3, 4]],
        });
        assert_eq!(
            pad.to_rust("v"),
            "v::LayerConfig::ZeroPadding2D(v::layer::ZeroPadding2D { padding: [[1usize, 2usize, ], \
             [3usize, 4usize, ], ], })"
        );
    }

    #[test]
    fn debug_shows_the_layer_itself() {
        // Weight files fingerprint this text: it must not show the wrapper.
        let conv = LayerConfig::Activation(layer::Activation(Activation::Relu));
        assert_eq!(format!("{conv:?}"), "Activation(Relu)");
        assert_eq!(format!("{:?}", LayerConfig::Flatten(layer::Flatten)), "Flatten");
    }
}
