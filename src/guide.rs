//! # Keras → `network!`: the lecture's networks, side by side
//!
//! Each section shows the Keras functional-API code from the lecture "Redes
//! complexas" and the same network written with [`network!`](crate::network).
//! Every Rust block here is compiled and run as a test.
//!
//! ## Inputs, layers applied to tensors, a model
//!
//! Keras:
//! ```python
//! X = Input(shape=(64, 64, 3))
//! X0 = layers.Conv2D(16, (3,3), strides=1, padding='same', activation='relu')(X)
//! ```
//! `network!`: the input is declared with its shape (the batch stays
//! dynamic), and a layer is constructed with Keras's arguments and applied to
//! a tensor by calling it. Arguments are positional in Keras's order or named;
//! `same`/`valid` and activation names are bare words (strings work too).
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     struct Stem {
//!         input x: [64, 64, 3];
//!         output x0 = Conv2D(16, (3, 3), strides = 1, padding = same, activation = relu)(x);
//!     }
//! }
//! assert_eq!(Stem::PARAM_COUNT, 448);
//! ```
//!
//! ## A residual block as a function
//!
//! Keras:
//! ```python
//! def bloco_residual(X, n):
//!     A1 = layers.Conv2D(n, (3,3), strides=1, padding='same', activation='relu')(X)
//!     Z2 = layers.Conv2D(n, (3,3), strides=1, padding='same')(A1)
//!     ZX = layers.Add()([Z2, X])
//!     A2 = layers.Activation('relu')(ZX)
//!     return A2
//! ```
//! `network!`: a block is an `fn` with untyped parameters (tensors, integers
//! or layers); each call builds fresh layers. Its last expression is what it
//! returns. `relu(t)` is Keras's `Activation('relu')(t)`, `add(a, b)` its
//! `Add()([a, b])`.
//!
//! ## The whole residual network
//!
//! Keras:
//! ```python
//! X = Input(shape=(64, 64, 3))
//! X0 = layers.Conv2D(16, (3,3), strides=1, padding='same', activation='relu')(X)
//! X1 = bloco_residual(X0, 16)
//! X2 = layers.Conv2D(32, (3,3), strides=1, padding='same', activation='relu')(X1)
//! X2 = layers.MaxPooling2D((2, 2))(X2)
//! X2 = bloco_residual(X2, 32)
//! X2 = layers.MaxPooling2D((2, 2))(X2)
//! X3 = layers.Flatten()(X2)
//! Y = layers.Dense(6, activation='softmax')(X3)
//! rna = Model(X, Y)
//! rna.summary()
//! ```
//! `network!`:
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     fn bloco_residual(x, n) {
//!         let a1 = Conv2D(n, (3, 3), strides = 1, padding = same, activation = relu)(x);
//!         let z2 = Conv2D(n, (3, 3), strides = 1, padding = same)(a1);
//!         relu(add(z2, x))
//!     }
//!
//!     pub struct Residual {
//!         input x: [64, 64, 3];
//!         let x0 = Conv2D(16, (3, 3), strides = 1, padding = same, activation = relu)(x);
//!         let x1 = bloco_residual(x0, 16);
//!         let x2 = Conv2D(32, (3, 3), strides = 1, padding = same, activation = relu)(x1);
//!         let x2 = MaxPooling2D((2, 2))(x2);
//!         let x2 = bloco_residual(x2, 32);
//!         let x2 = MaxPooling2D((2, 2))(x2);
//!         let x3 = Flatten()(x2);
//!         output y = Dense(6, activation = softmax)(x3);
//!     }
//! }
//!
//! assert_eq!(Residual::PARAM_COUNT, 77_382);
//! let summary = Residual::summary();
//! assert!(summary.contains("add_1 (Add)                    (None, 64, 64, 16)    0         conv2d_3[0][0]"));
//! assert!(summary.contains("Total params: 77,382"));
//! ```
//!
//! ## The inception module and network
//!
//! Keras:
//! ```python
//! def modulo_inception(X, n):
//!     ramo_a = layers.Conv2D(n, 1, activation='relu')(X)
//!     ramo_b = layers.Conv2D(n, 1, activation='relu')(X)
//!     ramo_b = layers.Conv2D(n, 3, activation='relu', padding='same')(ramo_b)
//!     ramo_c = layers.Conv2D(n, 1, activation='relu')(X)
//!     ramo_c = layers.Conv2D(n, 5, activation='relu', padding='same')(ramo_c)
//!     ramo_d = layers.MaxPooling2D(3, strides=1, padding='same')(X)
//!     ramo_d = layers.Conv2D(n, 1, activation='relu', padding='same')(ramo_d)
//!     return layers.concatenate([ramo_a, ramo_b, ramo_c, ramo_d], axis=-1)
//!
//! X = Input(shape=(64, 64, 3))
//! X1 = modulo_inception(X, 16)
//! X2 = layers.MaxPooling2D(3, strides=2)(X1)
//! X3 = modulo_inception(X2, 32)
//! Y = layers.Dense(6, activation='softmax')(layers.Flatten()(X3))
//! ```
//! `network!` (`concat` joins the last axis, Keras's `axis=-1`; it takes a
//! list as in Keras or the tensors directly):
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     fn modulo_inception(x, n) {
//!         let ramo_a = Conv2D(n, 1, activation = relu)(x);
//!         let ramo_b = Conv2D(n, 1, activation = relu)(x);
//!         let ramo_b = Conv2D(n, 3, activation = relu, padding = same)(ramo_b);
//!         let ramo_c = Conv2D(n, 1, activation = relu)(x);
//!         let ramo_c = Conv2D(n, 5, activation = relu, padding = same)(ramo_c);
//!         let ramo_d = MaxPooling2D(3, strides = 1, padding = same)(x);
//!         let ramo_d = Conv2D(n, 1, activation = relu, padding = same)(ramo_d);
//!         concat([ramo_a, ramo_b, ramo_c, ramo_d])
//!     }
//!
//!     pub struct Inception {
//!         input x: [64, 64, 3];
//!         let x1 = modulo_inception(x, 16);
//!         let x2 = MaxPooling2D(3, strides = 2)(x1);
//!         let x3 = modulo_inception(x2, 32);
//!         output y = Dense(6, activation = softmax)(flatten(x3));
//!     }
//! }
//!
//! assert_eq!(Inception::PARAM_COUNT, 790_246);
//! ```
//!
//! ## Projection shortcut (the lecture's `W_s`), loops, several networks
//!
//! When a residual block changes the shape, the lecture adds a projection of
//! the shortcut. A strided 1x1 convolution does it. Repetition is a `for`
//! loop with a literal bound, unrolled at compile time; one invocation may
//! declare several networks that share blocks.
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     fn down_block(x, n) {
//!         let a = Conv2D(n, 3, strides = 2, padding = same, activation = relu)(x);
//!         let z = Conv2D(n, 3, padding = same)(a);
//!         let shortcut = Conv2D(n, 1, strides = 2)(x);   // W_s a[l]
//!         relu(add(z, shortcut))
//!     }
//!
//!     pub struct ForColour {
//!         input x: [64, 64, 3];
//!         let h = Conv2D(16, 3, padding = same, activation = relu)(x);
//!         for i in 0..3 {
//!             h = down_block(h, 16 * (i + 1));
//!         }
//!         output y = Dense(6, activation = softmax)(GlobalAveragePooling2D()(h));
//!     }
//!
//!     pub struct ForGrey {
//!         input x: [28, 28, 1];
//!         let h = down_block(x, 32);
//!         output y = Dense(10, activation = softmax)(flatten(h));
//!     }
//! }
//!
//! assert!(ForColour::summary().contains("(None, 8, 8, 48)"));
//! assert!(ForGrey::summary().contains("(None, 14, 14, 32)"));
//! ```
//!
//! ## Shared layers (siamese branches) and several inputs and outputs
//!
//! Keras shares weights by applying one layer object twice. So does
//! `network!`: bind the layer without applying it, then apply the binding.
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     pub struct Siamese {
//!         input left: [28, 28, 1];
//!         input right: [28, 28, 1];
//!         let encoder = Dense(32, activation = relu);
//!         let a = encoder(flatten(left));
//!         let b = encoder(flatten(right));
//!         output same = Dense(1, activation = sigmoid)(concat(a, b));
//!         output left_class = Dense(10, activation = softmax)(a);
//!     }
//! }
//!
//! // One encoder kernel (784 x 32 + 32), not two.
//! assert_eq!(Siamese::PARAM_COUNT, 784 * 32 + 32 + 64 + 1 + 32 * 10 + 10);
//! ```
//!
//! ## A network used as a layer (Keras's nested `Model`)
//!
//! Keras writes the siamese tower as a model of its own and calls it on
//! both images; the calls share its weights, and the summary shows it as
//! one row:
//! ```python
//! tower = keras.Sequential([layers.Conv2D(16, 3, padding='same', activation='relu'),
//!                           layers.Flatten(), layers.Dense(32, activation='relu')], name='tower')
//! a, b = tower(left), tower(right)
//! ```
//! `network!`: a network of the same invocation, made with `Tower()` (or
//! `Tower(name = "tower")`) and applied like a layer; `Tower(x)` makes a new
//! instance (new weights) and applies it once. Its layers are named inside
//! the instance (`tower_1/conv2d_1`), so its weights keep those names in
//! weight files; the network still exists on its own as `Tower`.
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     pub struct Tower {
//!         input image: [28, 28, 1];
//!         let x = Conv2D(16, 3, padding = same, activation = relu)(image);
//!         output embedding = Dense(32, activation = relu)(flatten(x));
//!     }
//!
//!     pub struct Siamese {
//!         input left: [28, 28, 1];
//!         input right: [28, 28, 1];
//!         let tower = Tower();
//!         output same = Dense(1, activation = sigmoid)(abs(subtract(tower(left), tower(right))));
//!     }
//! }
//!
//! // One tower's weights, not two.
//! assert_eq!(Siamese::PARAM_COUNT, Tower::PARAM_COUNT + 32 + 1);
//! assert_eq!(Siamese::SPEC.params[0].key, "tower_1/conv2d_1.kernel");
//! assert!(Siamese::summary().contains("tower_1 (Tower)"));
//! ```
//! The network must be in the same `network!` invocation: each invocation
//! is expanded on its own, and the outer network's shapes and weight layout
//! need the inner network's statements at compile time. Each call's inputs
//! must have the shapes the network declares; a network used as a layer has
//! one output.
//!
//! ## Comparing two embeddings: subtract, abs, square, sqrt
//!
//! The lecture's siamese head compares the two embeddings element by element.
//! Keras:
//! ```python
//! d = layers.Subtract()([a, b])
//! d = keras.ops.abs(d)                 # or a Lambda layer
//! same = layers.Dense(1, activation='sigmoid')(d)
//! ```
//! `network!`: `subtract(a, b)` is `Subtract()([a, b])` (exactly two
//! tensors); `multiply`, `average`, `maximum` and `minimum` take two or more
//! tensors of one shape (the layers `Multiply()`, ... work too). Keras has no
//! `Abs` layer: `abs(x)`, `square(x)` and `sqrt(x)` are its ops, and the
//! summary shows them as a Keras 3 functional model does, one row per call
//! (`absolute_1 (Absolute)`). An L2 distance is
//! `sqrt(add(square(subtract(a, b)), ...))` over the features you add.
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     pub struct SameOrNot {
//!         input left: [28, 28, 1];
//!         input right: [28, 28, 1];
//!         let tower = Dense(32, activation = relu);
//!         let a = tower(flatten(left));
//!         let b = tower(flatten(right));
//!         output same = Dense(1, activation = sigmoid)(abs(subtract(a, b)));
//!     }
//! }
//!
//! assert_eq!(SameOrNot::PARAM_COUNT, 784 * 32 + 32 + 32 + 1);
//! let summary = SameOrNot::summary();
//! assert!(summary.contains("subtract_1 (Subtract)          (None, 32)            0         dense_1[0][0]"));
//! assert!(summary.contains("absolute_1 (Absolute)          (None, 32)            0         subtract_1[0][0]"));
//! ```
//!
//! ## Padding like keras.applications, activation layers
//!
//! keras.applications.ResNet50 pads its input by 3 before a 7x7 valid
//! convolution (`same` would pad 2 and 3). Keras:
//! ```python
//! x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img)
//! x = layers.Conv2D(64, 7, strides=2)(x)
//! x = layers.LeakyReLU(negative_slope=0.1)(x)   # Keras 2: alpha=0.1
//! x = layers.Cropping2D(1)(x)
//! x = layers.ReLU(max_value=6.0)(x)
//! ```
//! `network!` takes the same three forms of amounts (`n`, `(rows, columns)`,
//! `((top, bottom), (left, right))`), `LeakyReLU`'s slope under either
//! name, and `elu`, `selu`, `softplus`, `hard_sigmoid` wherever an
//! activation goes:
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     pub struct Stem {
//!         input img: [224, 224, 3];
//!         let x = ZeroPadding2D(padding = ((3, 3), (3, 3)))(img);
//!         let x = Conv2D(64, 7, strides = 2)(x);
//!         let x = LeakyReLU(negative_slope = 0.1)(x);
//!         let x = Cropping2D(1)(x);
//!         let x = ReLU(max_value = 6.0)(x);
//!         output y = Dense(10, activation = selu)(GlobalAveragePooling2D()(x));
//!     }
//! }
//!
//! let summary = Stem::summary();
//! assert!(summary.contains("zero_padding2d_1 (ZeroPadding2D) (None, 230, 230, 3)"));
//! assert!(summary.contains("conv2d_1 (Conv2D)              (None, 112, 112, 64)  9,472"));
//! assert!(summary.contains("leaky_re_lu_1 (LeakyReLU)      (None, 112, 112, 64)  0"));
//! assert!(summary.contains("cropping2d_1 (Cropping2D)      (None, 110, 110, 64)  0"));
//! assert!(summary.contains("re_lu_1 (ReLU)                 (None, 110, 110, 64)  0"));
//! ```
//!
//! ## Reshaping, up-sampling, layer normalization, gelu; sizes read off tensors
//!
//! Keras:
//! ```python
//! x = layers.Conv2D(16, 3, padding="same", activation="gelu")(img)
//! x = layers.UpSampling2D(2, interpolation="bilinear")(x)
//! g = layers.GlobalMaxPooling2D()(x)
//! t = layers.Permute((2, 1))(layers.Reshape((-1, 4))(g))
//! t = layers.LayerNormalization()(t)
//! y = layers.Dense(10, activation="swish")(layers.Flatten()(t))
//! ```
//! and a dense block whose transition halves the channels it has grown,
//! `x.shape[-1] // 2` in Keras, is `channels(x) / 2` in `network!`:
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     fn dense_block(x, growth) {
//!         for _ in 0..4 {
//!             let y = BatchNormalization(center = false)(x);
//!             let y = Conv2D(growth, 3, padding = same, activation = relu)(y);
//!             x = concat(x, y);
//!         }
//!         Conv2D(channels(x) / 2, 1)(x)
//!     }
//!
//!     pub struct Shapes {
//!         input img: [16, 16, 3];
//!         let x = Conv2D(16, 3, padding = same, activation = gelu)(img);
//!         let x = dense_block(x, 8);
//!         let x = UpSampling2D(2, interpolation = "bilinear")(x);
//!         let g = GlobalMaxPooling2D()(x);
//!         let t = Permute((2, 1))(Reshape((-1, 4))(g));
//!         let t = LayerNormalization()(t);
//!         output y = Dense(10, activation = swish)(flatten(t));
//!     }
//! }
//!
//! let summary = Shapes::summary();
//! assert!(summary.contains("conv2d_6 (Conv2D)              (None, 16, 16, 24)    1,176"));
//! assert!(summary.contains("up_sampling2d_1 (UpSampling2D) (None, 32, 32, 24)    0"));
//! assert!(summary.contains("reshape_1 (Reshape)            (None, 6, 4)          0"));
//! assert!(summary.contains("permute_1 (Permute)            (None, 4, 6)          0"));
//! assert!(summary.contains("layer_normalization_1 (LayerNormalization) (None, 4, 6)"));
//! ```
//!
//! ## Depthwise, separable, dilated, grouped and transposed convolutions; sequences
//!
//! Keras (a MobileNetV2-style inverted residual block, then the rest of the
//! convolution family):
//! ```python
//! img = Input(shape=(32, 32, 16))
//! x = layers.Conv2D(96, 1, use_bias=False)(img)
//! x = layers.ReLU(6.0)(x)
//! x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
//! x = layers.ReLU(6.0)(x)
//! x = layers.Conv2D(16, 1, use_bias=False)(x)
//! x = layers.Add()([img, x])
//! x = layers.Conv2D(32, 3, padding="same", dilation_rate=2, groups=4)(x)
//! x = layers.SeparableConv2D(64, 3, strides=2, padding="same", activation="relu")(x)
//! y = layers.Conv2DTranspose(16, 3, strides=2, padding="same")(x)
//!
//! seq = Input(shape=(100, 8))
//! h = layers.Conv1D(16, 3, padding="causal", dilation_rate=2, activation="relu")(seq)
//! h = layers.MaxPooling1D(2)(h)
//! h = layers.AveragePooling1D(2, padding="same")(h)
//! out = layers.Dense(4, activation="softmax")(layers.GlobalAveragePooling1D()(h))
//! ```
//! `network!`: the same arguments, weights in Keras's layout and names
//! (`DepthwiseConv2D`'s `kernel` is `[kh, kw, channels, depth_multiplier]`,
//! `Conv2DTranspose`'s `[kh, kw, filters, channels]`), so Keras-saved
//! weights load. Keras's refusals are compile errors here: `groups` that do
//! not divide the filters or the input's channels, `dilation_rate` above 1
//! with `strides` above 1 (Conv1D, Conv2D, Conv2DTranspose),
//! `output_padding` not below the strides, `causal` outside `Conv1D`.
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     pub struct Family {
//!         input img: [32, 32, 16];
//!         let x = Conv2D(96, 1, use_bias = false)(img);
//!         let x = ReLU(6.0)(x);
//!         let x = DepthwiseConv2D(3, padding = same, use_bias = false)(x);
//!         let x = ReLU(6.0)(x);
//!         let x = Conv2D(16, 1, use_bias = false)(x);
//!         let x = add(img, x);
//!         let x = Conv2D(32, 3, padding = same, dilation_rate = 2, groups = 4)(x);
//!         let x = SeparableConv2D(64, 3, strides = 2, padding = same, activation = relu)(x);
//!         output y = Conv2DTranspose(16, 3, strides = 2, padding = same)(x);
//!     }
//!
//!     pub struct Sequence {
//!         input seq: [100, 8];
//!         let h = Conv1D(16, 3, padding = causal, dilation_rate = 2, activation = relu)(seq);
//!         let h = MaxPooling1D(2)(h);
//!         let h = AveragePooling1D(2, padding = same)(h);
//!         output out = Dense(4, activation = softmax)(GlobalAveragePooling1D()(h));
//!     }
//! }
//!
//! // Keras's totals for the same models.
//! assert_eq!(Family::PARAM_COUNT, 16_752);
//! assert_eq!(Sequence::PARAM_COUNT, 468);
//! let summary = Family::summary();
//! assert!(summary.contains("depthwise_conv2d_1 (DepthwiseConv2D) (None, 32, 32, 96)    864"));
//! assert!(summary.contains("conv2d_3 (Conv2D)              (None, 32, 32, 32)    1,184"));
//! assert!(summary.contains("separable_conv2d_1 (SeparableConv2D) (None, 16, 16, 64)    2,400"));
//! assert!(summary.contains("conv2d_transpose_1 (Conv2DTranspose) (None, 32, 32, 16)    9,232"));
//! let summary = Sequence::summary();
//! assert!(summary.contains("conv1d_1 (Conv1D)              (None, 100, 16)       400"));
//! assert!(summary.contains("average_pooling1d_1 (AveragePooling1D) (None, 25, 16)        0"));
//! ```
//!
//! ## Frozen layers (`trainable=False`)
//!
//! ```python
//! x = layers.Dense(10, trainable=False)(inputs)   # or later: layer.trainable = False
//! ```
//! is `trainable = false` on any built-in layer, fixed when the network is
//! written (there is no run-time switch); on a layer without weights it
//! does nothing, as in Keras, and custom layers refuse it for now. Frozen weights count as non-trainable, get
//! no gradient and no update; a frozen `BatchNormalization` runs in
//! inference mode, as in Keras 3:
//! ```
//! use nn::prelude::*;
//!
//! network! {
//!     pub struct Frozen {
//!         input x: [784];
//!         output y = Dense(10, trainable = false)(x);
//!     }
//! }
//!
//! assert_eq!(Frozen::NON_TRAINABLE_PARAM_COUNT, 7850);
//! assert!(Frozen::summary().contains("Non-trainable params: 7,850"));
//! ```
//!
//! ## A layer of your own (subclassing `keras.layers.Layer`)
//!
//! ```python
//! class SignedSquare(keras.layers.Layer):
//!     def call(self, x):
//!         return x * keras.ops.abs(x)
//! ```
//! is a type implementing [`CustomLayer`](crate::CustomLayer), applied with
//! `Custom(value, output = [..])` (and `weights = [name = [..], ..]` if it
//! has any). Keras derives the backward pass; here the layer writes it. The
//! macro checks the declared shapes against the rest of the network;
//! `try_new` checks the layer's own shapes against the declaration (README,
//! "Custom layers"):
//! ```
//! use nn::prelude::*;
//! use nn::rand::SeedableRng;
//!
//! struct SignedSquare;
//!
//! impl CustomLayer for SignedSquare {
//!     fn class_name(&self) -> &str {
//!         "SignedSquare"
//!     }
//!     fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
//!         Ok(input.to_vec())
//!     }
//!     fn forward(&self, _batch: usize, x: &[f32], _w: &[&[f32]], y: &mut [f32]) {
//!         for (y, x) in y.iter_mut().zip(x) {
//!             *y = x * x.abs();
//!         }
//!     }
//!     fn backward(
//!         &self,
//!         _batch: usize,
//!         x: &[f32],
//!         _w: &[&[f32]],
//!         _y: &[f32],
//!         dy: &[f32],
//!         dx: &mut [f32],
//!         _dw: &mut [&mut [f32]],
//!     ) {
//!         // Gradients are added, never overwritten.
//!         for ((dx, x), dy) in dx.iter_mut().zip(x).zip(dy) {
//!             *dx += 2.0 * x.abs() * dy;
//!         }
//!     }
//! }
//!
//! network! {
//!     pub struct Squashed {
//!         input x: [4];
//!         let h = Custom(SignedSquare, output = [4])(Dense(4)(x));
//!         output y = Dense(2, activation = softmax)(h);
//!     }
//! }
//!
//! let mut net = Squashed::try_new(&mut nn::rand::rngs::StdRng::seed_from_u64(0))?;
//! assert_eq!(Squashed::PARAM_COUNT, 4 * 4 + 4 + 4 * 2 + 2);
//! let x = nn::ndarray::Array2::<f32>::ones((3, 4));
//! let y = net.predict(x.view())?;
//! assert_eq!(y.shape(), &[3, 2]);
//! # Ok::<(), NnError>(())
//! ```
//!
//! ## compile, fit, evaluate, predict
//!
//! Keras:
//! ```python
//! rna.compile(optimizer=Adam(lr=0.001, beta_1=0.9, beta_2=0.999),
//!             loss='categorical_crossentropy', metrics=['accuracy'])
//! history = rna.fit(X_train, Y_train, epochs=50, validation_data=(X_val, Y_val))
//! ```
//! `nn`:
//! ```
//! use nn::prelude::*;
//! use nn::ndarray::{Array2, Array4};
//! use nn::rand::SeedableRng;
//!
//! network! {
//!     pub struct Tiny {
//!         input x: [4, 4, 1];
//!         output y = Dense(2, activation = softmax)(flatten(Conv2D(4, 3, padding = same, activation = relu)(x)));
//!     }
//! }
//!
//! let mut rng = nn::rand::rngs::StdRng::seed_from_u64(0);
//! let mut net = Tiny::new(&mut rng);
//! // A toy task: is the image's top half brighter than its bottom half?
//! let x = Array4::from_shape_fn((64, 4, 4, 1), |(n, h, _, _)| if (n % 2 == 0) == (h < 2) { 1.0 } else { 0.0 });
//! let labels: Vec<usize> = (0..64).map(|n| n % 2).collect();
//! let data = Dataset::new(x.clone(), one_hot(&labels, 2)?)?;
//!
//! let mut trainer = Trainer::new(Adam::with_betas(0.01, 0.9, 0.999), Loss::CategoricalCrossentropy)
//!     .with_accuracy();
//! let config = FitConfig { epochs: 20, batch_size: 16, verbosity: Verbosity::Quiet, ..FitConfig::default() };
//! let history = trainer.fit(&mut net, &data, Some(&data), &config, &mut [])?;
//! assert!(history.series("val_accuracy").last().unwrap() > &0.9);
//!
//! let probabilities = net.predict(x.view())?;       // (64, 2)
//! assert_eq!(probabilities.shape(), &[64, 2]);
//! # Ok::<(), NnError>(())
//! ```
//!
//! ## A custom training loop, and gradients of the input
//!
//! Style transfer, adversarial examples and GANs need more than `fit`: run
//! the network in training mode, send your own output gradient back, then
//! read the parameter gradients or the gradient of the input image.
//! ```
//! use nn::prelude::*;
//! use nn::ndarray::{Array2, Array4};
//! use nn::rand::SeedableRng;
//!
//! network! {
//!     pub struct Critic {
//!         input image: [8, 8, 1];
//!         let h = Conv2D(4, 3, padding = same, activation = relu)(image);
//!         output score = Dense(1)(flatten(h));
//!     }
//! }
//!
//! let mut net = Critic::new(&mut nn::rand::rngs::StdRng::seed_from_u64(1));
//! net.set_input_grads(true);
//! let image = Array4::<f32>::from_elem((1, 8, 8, 1), 0.5);
//! let score = net.forward_train(image.view())?;           // (1, 1)
//! // Gradient ascent on the score with respect to the image.
//! net.backward(Array2::<f32>::ones((1, 1)).view())?;
//! let towards_higher_score = net.input_grad(0).unwrap();  // 64 floats, d score / d pixel
//! assert_eq!(towards_higher_score.len(), 64);
//! assert!(towards_higher_score.iter().any(|&g| g != 0.0));
//! let mut optimizer = Adam::new(1e-3);
//! let (params, grads) = net.params_and_grads();           // or update the weights
//! optimizer.step(params, grads);
//! # let _ = score;
//! # Ok::<(), NnError>(())
//! ```
