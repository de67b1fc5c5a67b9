//! # nn: neural networks written as a `network!` block
//!
//! A network is declared in Rust source with Keras's vocabulary. The
//! [`network!`] macro infers every tensor's shape at compile time, reports
//! shape mistakes as compile errors on the offending layer, and expands into
//! a struct whose forward and backward passes are straight-line calls into
//! [`runtime`] kernels, with every size a constant.
//!
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     /// A small classifier for 28x28 greyscale images.
//!     pub struct Classifier {
//!         input image: [28, 28, 1];
//!         let h = Conv2D(16, 3, padding = same, activation = relu)(image);
//!         let h = MaxPooling2D(2)(h);
//!         output class = Dense(10, activation = softmax)(flatten(h));
//!     }
//! }
//!
//! assert_eq!(Classifier::PARAM_COUNT, 160 + 3136 * 10 + 10);
//! println!("{}", Classifier::summary());
//! ```
//!
//! ## Grammar
//!
//! An invocation holds networks (`[pub] struct Name { ... }`, with doc
//! comments) and blocks (`fn name(params) { ... }`) shared by them. Inside a
//! network, statements run top to bottom at compile time:
//!
//! | statement | meaning |
//! |---|---|
//! | `input x: [64, 64, 3];` | an input; the shape excludes the batch axis |
//! | `let t = expr;` | binds a tensor, an integer or an unapplied layer |
//! | `t = expr;` | rebinds an existing name (used in loops) |
//! | `for i in 0..N { ... }` | repetition with literal bounds, unrolled; `i` is an integer |
//! | `fn block(x, n) { ...; result }` | a block; each call makes fresh layers |
//! | `output y = expr;` | a named output (several allowed) |
//! | `let t = Tower();` then `t(a)`, `t(b)` | a network of the same invocation used as a layer, weights shared by the calls (Keras's nested `Model`); `Tower(x)` makes and applies a new one |
//!
//! Expressions: `Layer(args)(tensor)` constructs and applies a layer;
//! `let l = Layer(args);` then `l(a)`, `l(b)` shares its weights; `block(x, 16)`
//! inlines a block; `add(a, b, ...)`, `concat(a, b, ...)` (or `concat([a, b])`),
//! `subtract(a, b)`, `multiply(...)`, `average(...)`, `maximum(...)`,
//! `minimum(...)`, `flatten(x)`, `global_max_pooling2d(x)` and the activation
//! functions `relu`, `relu6`, `leaky_relu`, `sigmoid`, `tanh`, `softmax`,
//! `elu`, `selu`, `softplus`, `hard_sigmoid`, `gelu`, `swish` (or `silu`),
//! `linear` apply the
//! corresponding Keras layer; `abs(x)`, `square(x)`, `sqrt(x)` are Keras's
//! element-wise ops (`keras.ops.abs`, ...), shown in the summary as the
//! Keras 3 operation (`absolute_1 (Absolute)`, `square_1 (Square)`,
//! `sqrt_1 (Sqrt)`); integers support `+ - * / %`, and `channels(x)`,
//! `height(x)`, `width(x)` read a tensor's dimensions at compile time, so a
//! DenseNet's growing channel count need not be tracked by hand.
//!
//! Layers and their arguments (Keras's names, order and defaults):
//!
//! | layer | arguments |
//! |---|---|
//! | `Conv2D` | `filters`, `kernel_size` (int or `(h, w)`), `strides = 1`, `padding = valid`, `activation = linear`, `use_bias = true`, `kernel_initializer = glorot_uniform`, `dilation_rate = 1` (int or pair; not with `strides` > 1), `groups = 1` (divides `filters` and the input's channels), `name` |
//! | `DepthwiseConv2D` | `kernel_size`, `strides = 1`, `padding = valid`, `depth_multiplier = 1`, `dilation_rate = 1`, `activation = linear`, `use_bias = true`, `depthwise_initializer = glorot_uniform`, `name`; weights `kernel [kh, kw, channels, depth_multiplier]`, `bias` (Keras 3's names) |
//! | `SeparableConv2D` | `filters`, `kernel_size`, `strides = 1`, `padding = valid`, `dilation_rate = 1`, `depth_multiplier = 1`, `activation = linear`, `use_bias = true`, `depthwise_initializer`, `pointwise_initializer`, `name`; weights `depthwise_kernel`, `pointwise_kernel [1, 1, channels * depth_multiplier, filters]`, `bias` |
//! | `Conv2DTranspose` | `filters`, `kernel_size`, `strides = 1`, `padding = valid`, `output_padding = None` (each below its stride), `dilation_rate = 1` (not with `strides` > 1), `activation = linear`, `use_bias = true`, `kernel_initializer`, `name`; kernel `[kh, kw, filters, channels]` as Keras's |
//! | `Conv1D` (on `[steps, channels]`) | `filters`, `kernel_size`, `strides = 1`, `padding = valid` (or `same`, `causal`), `dilation_rate = 1` (not with `strides` > 1), `groups = 1`, `activation = linear`, `use_bias = true`, `kernel_initializer`, `name`; kernel `[k, channels / groups, filters]` |
//! | `MaxPooling1D`, `AveragePooling1D` (on `[steps, channels]`) | `pool_size = 2`, `strides = pool_size`, `padding = valid`, `name` |
//! | `GlobalAveragePooling1D` | `name`: `[steps, channels]` to `[channels]` |
//! | `Dense` | `units`, `activation`, `use_bias`, `kernel_initializer`, `name` |
//! | `MaxPooling2D`, `AveragePooling2D` | `pool_size = 2`, `strides = pool_size`, `padding = valid`, `name` |
//! | `GlobalAveragePooling2D`, `GlobalMaxPooling2D`, `Flatten`, `Add`, `Concatenate` | `name` |
//! | `UpSampling2D` | `size = 2` (int or `(rows, columns)`), `interpolation = "nearest"` or `"bilinear"` (Keras 3's: half-pixel centres, edges clamped), `name` |
//! | `Reshape` | `target_shape`, a tuple without the batch axis; one entry may be `-1` (inferred), `name` |
//! | `Permute` | `dims`, the new order of the axes after the batch axis, counted from 1 as in Keras: `(2, 1)`, `name` |
//! | `ZeroPadding2D` | `padding = 1`: `n`, `(rows, columns)` (each side) or `((top, bottom), (left, right))`, `name` |
//! | `Cropping2D` | `cropping = 0`, the same three forms (must leave at least one row and column), `name` |
//! | `LeakyReLU` | `alpha = 0.3` (Keras 2) or `negative_slope = 0.3` (Keras 3), ≥ 0, `name` |
//! | `ReLU` | `max_value = None`, `negative_slope = 0`, `threshold = 0` (all ≥ 0, `max_value` above `threshold`), `name` |
//! | `Subtract` (two tensors: first minus second), `Multiply`, `Average`, `Maximum`, `Minimum` (two or more tensors of one shape) | `name` |
//! | `Activation` | `activation`, `name` |
//! | `BatchNormalization` | `momentum = 0.99`, `epsilon = 1e-3`, `center = true` (false: no `beta`), `scale = true` (false: no `gamma`), `name` |
//! | `LayerNormalization` | `axis = -1` (the last axis only), `epsilon = 1e-3`, `center = true`, `scale = true`, `name` |
//! | `Dropout` | `rate`, `name` |
//! | `Identity` | `name`: its input, unchanged (no code runs) |
//! | `Custom` | a value implementing [`CustomLayer`], then `output = [..]` (the declared output shape), optionally `weights = [name = [..], ..]` and `name`: a user-defined layer, checked against its declaration by the generated `try_new` (README, "Custom layers") |
//!
//! Every layer also takes `trainable = false` (Keras's frozen layer: its
//! weights count as non-trainable, get no gradient and no update; a frozen
//! `BatchNormalization` runs in inference mode, as in Keras 3); on a layer
//! without weights it does nothing. Supported on `Dense`, plain `Conv2D`,
//! `BatchNormalization`, `LayerNormalization`; elsewhere a compile error.
//!
//! Layers are named as Keras 2 names them (`conv2d_1`, `max_pooling2d_1`,
//! `add_1`, `input_1`, ...) unless given `name = "..."`. Tensors are NHWC
//! `f32`; `same` padding follows TensorFlow (extra padding at the bottom and
//! right); `Flatten` flattens in H, W, C order. Activations (as
//! `activation = ...` or functions) follow Keras 3: `elu` with alpha 1,
//! `selu` with Keras's scale and alpha, `hard_sigmoid` is `relu6(x + 3) / 6`
//! (Keras 2's was `0.2x + 0.5`), `gelu` is Keras 3's default exact form
//! `x·Φ(x)` (not the tanh approximation) and `swish` is Keras's `silu`,
//! `x·sigmoid(x)`. Their derivatives cannot be read off the output, so a
//! `Dense` or `Conv2D` with one of them keeps its pre-activation in the
//! activation arena beside its output (one more tensor of the output's size)
//! and backward differentiates from it. `maximum`/`minimum` send a
//! tie's gradient to the first input holding the value (Keras folds them
//! pairwise; TensorFlow gives a pairwise tie to the left operand); `abs` has
//! derivative 0 at 0; `sqrt` is NaN below 0 as in Keras, and its derivative
//! is taken at `max(x, 1e-7)` (Keras's `epsilon()`), so an L2 distance of
//! two equal embeddings has a large but finite gradient instead of
//! TensorFlow's inf.
//!
//! ## What the macro refuses
//!
//! Nothing is changed silently: every layer must reach an output (an
//! unused branch is an error, not dropped), and `let h = ...(h);` inside a
//! loop body, which would make a new `h` that dies with the iteration, is an
//! error asking for `h = ...(h);`. Budgets keep compilation and the forward
//! pass finite: at most 10,000 layer applications and 100,000 loop
//! iterations plus block calls per network, blocks nested 32 deep, 2^32
//! parameters, activations per sample or elements per tensor, and 2^40
//! multiply-adds per sample in one layer (a pooling window far larger than
//! its input is refused). Keras spellings the grammar does not have
//! (`Input(shape=...)`, `Model(x, y)`, `Sequential`, `layers.Conv2D`,
//! `x.shape[-1]`, a list of outputs, a batch axis in an input shape) get a
//! message naming the `network!` way; misspelt names get "did you mean".
//!
//! ## What a network gets
//!
//! `new(&mut rng)` (Keras's default initialisers), the constants
//! `PARAM_COUNT`, `TRAINABLE_PARAM_COUNT`, `NON_TRAINABLE_PARAM_COUNT`,
//! `summary()`, `dot()`, typed `predict`, `forward_train` and `backward`
//! taking and returning `ndarray` arrays, and the [`Model`] trait: flat
//! parameters and gradients, input gradients, weights in safetensors, and
//! everything [`prelude::Trainer`] needs to `fit`, `evaluate` and `predict`.
//!
//! See the [`guide`] for the lecture's Keras code beside its `network!` version.
//!
//! With the cargo feature `applications`, `nn::applications` holds
//! keras.applications networks (`VGG16`, `ResNet50`, `InceptionV3`, `MobileNetV2`, `DenseNet121`) with
//! Keras's layers and parameter counts.

// `network!` expansions name `::nn::...`; inside this crate that is itself.
extern crate self as nn;

#[cfg(feature = "applications")]
pub mod applications;
pub mod guide;

pub use nn_macros::network;
pub use nn_runtime as runtime;
pub use nn_runtime::{CustomLayer, Mode, Model, NnError};

pub use ndarray;
pub use rand;

/// What `network!` expansions refer to, and nothing else does: everything
/// generated code names goes through this path, so the runtime's public
/// surface can change without breaking expansions and users never see the
/// plumbing. Not an API: may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use nn_runtime::model::{typed_output, Generated};
    pub use nn_runtime::*;
    pub use {ndarray, rand};
}

/// Everything a training program needs in one import.
pub mod prelude {
    pub use crate::network;
    pub use nn_runtime::io::datasets;
    pub use nn_runtime::io::image_folder::{BadFiles, ColorMode, ImageFolder, ImageFolderOptions, LabelMode};
    pub use nn_runtime::report::curves;
    pub use nn_runtime::train::{
        one_hot, predict, predict_named, Adam, Augmentation, Callback, CallbackContext, CosineDecay,
        CsvLogger, Dataset, EarlyStopping, ExponentialDecay, FitConfig, Flip, History, LearningRateScheduler,
        Logs, Loss, Metric, ModelCheckpoint, Optimizer, PiecewiseConstantDecay, ReduceLROnPlateau, RmsProp,
        Sgd, StreamConfig, TerminateOnNaN, Trainer, Verbosity,
    };
    pub use nn_runtime::{CustomLayer, Mode, Model, NnError};
}
