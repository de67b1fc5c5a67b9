//! The typed description of one layer: its kind and its whole configuration,
//! with Keras's names and defaults already applied. `network!` emits one per
//! layer into [`LayerSpec::config`](crate::spec::LayerSpec::config); whatever
//! needs to know what a layer *is* — ONNX export, Keras weight import, the
//! architecture fingerprint of weight files — reads this rather than the
//! human-readable `detail` text.
//!
//! This is the seed of the one layer vocabulary: a new layer kind adds a
//! variant here (and its Keras class, name prefix and weight names below).

use crate::activation::Activation;
use crate::init::Initializer;
use crate::window::Padding;

/// A layer kind and its configuration. Pairs are `[height, width]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LayerConfig {
    /// A network input (Keras's `InputLayer`).
    Input,
    Conv2D {
        filters: usize,
        kernel_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
        activation: Activation,
        use_bias: bool,
        kernel_initializer: Initializer,
    },
    /// Applied to the last axis of any tensor (the others are rows).
    Dense {
        units: usize,
        activation: Activation,
        use_bias: bool,
        kernel_initializer: Initializer,
    },
    MaxPooling2D {
        pool_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    },
    /// Averages over the in-bounds elements only (padding is not counted).
    AveragePooling2D {
        pool_size: [usize; 2],
        strides: [usize; 2],
        padding: Padding,
    },
    GlobalAveragePooling2D,
    /// Flattens in height, width, channels order.
    Flatten,
    Activation(Activation),
    /// Normalises the last axis (`axis = -1`); inference uses the moving
    /// statistics: `gamma * (x - mean) / sqrt(variance + epsilon) + beta`.
    BatchNormalization {
        momentum: f32,
        epsilon: f32,
    },
    /// Identity at inference.
    Dropout {
        rate: f32,
    },
    /// Element-wise sum of two or more tensors of one shape.
    Add,
    /// Joins two or more tensors along the last axis (`axis = -1`).
    Concatenate,
    /// `a - b`.
    Subtract,
    /// Element-wise product of two or more tensors.
    Multiply,
    /// Element-wise mean of two or more tensors.
    Average,
    Maximum,
    Minimum,
    /// Element-wise `|x|`, `x²`, `√x`.
    Abs,
    Square,
    Sqrt,
    /// Zeros added around an image: `[[top, bottom], [left, right]]`.
    ZeroPadding2D {
        padding: [[usize; 2]; 2],
    },
    /// Rows and columns removed: `[[top, bottom], [left, right]]`.
    Cropping2D {
        cropping: [[usize; 2]; 2],
    },
}

impl LayerConfig {
    /// Keras's class name: `Conv2D`, `MaxPooling2D`, `InputLayer`, ...
    pub const fn class(&self) -> &'static str {
        match self {
            LayerConfig::Input => "InputLayer",
            LayerConfig::Conv2D { .. } => "Conv2D",
            LayerConfig::Dense { .. } => "Dense",
            LayerConfig::MaxPooling2D { .. } => "MaxPooling2D",
            LayerConfig::AveragePooling2D { .. } => "AveragePooling2D",
            LayerConfig::GlobalAveragePooling2D => "GlobalAveragePooling2D",
            LayerConfig::Flatten => "Flatten",
            LayerConfig::Activation(_) => "Activation",
            LayerConfig::BatchNormalization { .. } => "BatchNormalization",
            LayerConfig::Dropout { .. } => "Dropout",
            LayerConfig::Add => "Add",
            LayerConfig::Concatenate => "Concatenate",
            LayerConfig::Subtract => "Subtract",
            LayerConfig::Multiply => "Multiply",
            LayerConfig::Average => "Average",
            LayerConfig::Maximum => "Maximum",
            LayerConfig::Minimum => "Minimum",
            LayerConfig::Abs => "Abs",
            LayerConfig::Square => "Square",
            LayerConfig::Sqrt => "Sqrt",
            LayerConfig::ZeroPadding2D { .. } => "ZeroPadding2D",
            LayerConfig::Cropping2D { .. } => "Cropping2D",
        }
    }

    /// Prefix of Keras's automatic layer names (`conv2d` in `conv2d_1`).
    pub const fn name_prefix(&self) -> &'static str {
        match self {
            LayerConfig::Input => "input",
            LayerConfig::Conv2D { .. } => "conv2d",
            LayerConfig::Dense { .. } => "dense",
            LayerConfig::MaxPooling2D { .. } => "max_pooling2d",
            LayerConfig::AveragePooling2D { .. } => "average_pooling2d",
            LayerConfig::GlobalAveragePooling2D => "global_average_pooling2d",
            LayerConfig::Flatten => "flatten",
            LayerConfig::Activation(_) => "activation",
            LayerConfig::BatchNormalization { .. } => "batch_normalization",
            LayerConfig::Dropout { .. } => "dropout",
            LayerConfig::Add => "add",
            LayerConfig::Concatenate => "concatenate",
            LayerConfig::Subtract => "subtract",
            LayerConfig::Multiply => "multiply",
            LayerConfig::Average => "average",
            LayerConfig::Maximum => "maximum",
            LayerConfig::Minimum => "minimum",
            LayerConfig::Abs => "abs",
            LayerConfig::Square => "square",
            LayerConfig::Sqrt => "sqrt",
            LayerConfig::ZeroPadding2D { .. } => "zero_padding2d",
            LayerConfig::Cropping2D { .. } => "cropping2d",
        }
    }

    /// The layer's weights in Keras's order (`layer.weights`), by the name
    /// that follows the layer name in weight files (`conv2d_1.kernel`).
    pub const fn weight_names(&self) -> &'static [&'static str] {
        match self {
            LayerConfig::Conv2D { use_bias: true, .. } | LayerConfig::Dense { use_bias: true, .. } => {
                &["kernel", "bias"]
            }
            LayerConfig::Conv2D { use_bias: false, .. } | LayerConfig::Dense { use_bias: false, .. } => {
                &["kernel"]
            }
            LayerConfig::BatchNormalization { .. } => &["gamma", "beta", "moving_mean", "moving_variance"],
            _ => &[],
        }
    }
}
