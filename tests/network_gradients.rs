//! Finite-difference checks of whole generated networks: every parameter
//! gradient and every input gradient of small versions of the lecture's
//! networks, a siamese network with a shared layer, and a two-input,
//! two-output network with a projection shortcut, batch norm and dropout.
//!
//! Smooth activations (tanh) stand in for relu here so that a finite
//! difference step never straddles a kink; relu's own derivative is checked
//! kernel by kernel in `nn-runtime`.

mod common;

use nn::network;

network! {
    fn residual(x, n) {
        let a = Conv2D(n, 3, padding = same, activation = tanh)(x);
        let z = Conv2D(n, 3, padding = same)(a);
        tanh(add(z, x))
    }

    fn inception(x, n) {
        let a = Conv2D(n, 1, activation = tanh)(x);
        let b = Conv2D(n, 1, activation = tanh)(x);
        let b = Conv2D(n, 3, activation = tanh, padding = same)(b);
        let c = Conv2D(n, 1, activation = tanh)(x);
        let c = Conv2D(n, 5, activation = tanh, padding = same)(c);
        let d = MaxPooling2D(3, strides = 1, padding = same)(x);
        let d = Conv2D(n, 1, activation = tanh, padding = same)(d);
        concat([a, b, c, d])
    }

    struct SmallResidual {
        input x: [8, 8, 3];
        let x0 = Conv2D(4, 3, padding = same, activation = tanh)(x);
        let x1 = residual(x0, 4);
        let x2 = Conv2D(6, 3, padding = same, activation = tanh)(x1);
        let x2 = MaxPooling2D(2)(x2);
        let x2 = residual(x2, 6);
        let x2 = MaxPooling2D(2)(x2);
        output y = Dense(3, activation = softmax)(flatten(x2));
    }

    struct SmallInception {
        input x: [7, 7, 3];
        let x1 = inception(x, 2);
        let x2 = MaxPooling2D(3, strides = 2)(x1);
        let x3 = inception(x2, 3);
        output y = Dense(3, activation = softmax)(flatten(x3));
    }

    /// Two branches through one shared encoder.
    struct Siamese {
        input left: [6];
        input right: [6];
        let encoder = Dense(4, activation = tanh);
        let l = encoder(left);
        let r = encoder(right);
        output same = Dense(1, activation = sigmoid)(concat(l, r));
    }

    /// Convolutions written into concatenations: strided (stride 2) and 1x1
    /// ones beside a pooled input, an in-place activation after the
    /// concatenation, and a concatenation that is itself an output.
    struct ConcatHeads {
        input x: [6, 6, 2];
        let a = Conv2D(3, 3, strides = 2, padding = same, activation = tanh)(x);
        let b = Conv2D(2, 1, strides = 2)(x);
        let p = MaxPooling2D(2, padding = same)(x);
        let j = tanh(concat(a, b, p));
        output y = Dense(3, activation = softmax)(flatten(j));
        output c = concat(Conv2D(2, 3, padding = same)(x), x);
    }

    /// Every element-wise merge and function around a shared encoder: the
    /// L1 distance `abs(subtract(l, r))` of a siamese head, a root of a sum
    /// of squares kept away from 0 by a sigmoid term, and n-ary merges with
    /// a tensor given twice.
    struct ElementwiseHeads {
        input left: [5];
        input right: [5];
        let encoder = Dense(4, activation = tanh);
        let l = encoder(left);
        let r = encoder(right);
        let d = abs(subtract(l, r));
        let s = sqrt(add(square(l), square(r), Dense(4, activation = sigmoid)(left)));
        let m = multiply(l, r, d, l);
        let a = Average()([l, r, m]);
        let hi = maximum(l, r, a);
        let lo = Minimum(name = "closest")(l, r);
        output same = Dense(1, activation = sigmoid)(concat(d, s, hi, lo));
    }

    /// elu, selu, softplus and hard_sigmoid fused into convolutions and
    /// dense layers, standalone, and in place over a linear layer.
    struct NewActivations {
        input x: [5, 5, 2];
        let c = Conv2D(3, 3, padding = same, activation = elu)(x);
        let c = selu(c);
        let d = Dense(4, activation = softplus)(flatten(c));
        let e = hard_sigmoid(Dense(3)(flatten(c)));
        let f = Activation(elu)(Dense(3, activation = hard_sigmoid)(flatten(x)));
        let g = LeakyReLU(alpha = 0.3)(Dense(3)(flatten(x)));
        let h = ReLU(max_value = 6, negative_slope = 0.1, threshold = 0.5)(Dense(3)(flatten(x)));
        let k = LeakyReLU(negative_slope = 0.2, name = "leaky")(h);
        output y = Dense(2, activation = selu)(concat(d, e, softplus(f), g, k));
    }

    /// ZeroPadding2D and Cropping2D in their three argument forms, around a
    /// convolution and stacked on each other.
    struct PadCrop {
        input x: [5, 5, 2];
        let p = ZeroPadding2D(((1, 2), (0, 3)))(x);
        let c = Conv2D(3, 3, activation = tanh)(p);
        let k = Cropping2D((1, 2))(c);
        let z = ZeroPadding2D()(Cropping2D(cropping = ((0, 1), (2, 0)))(x));
        output y = Dense(2)(concat(flatten(k), flatten(z)));
    }

    /// A DenseNet-style block whose transition halves the channels it has
    /// grown, read with `channels(x)` rather than tracked by hand.
    fn dense_block(x, growth) {
        for _ in 0..3 {
            let y = Conv2D(growth, 3, padding = same, activation = tanh)(x);
            x = concat(x, y);
        }
        Conv2D(channels(x) / 2, 1)(x)
    }

    struct GrowingDenseBlock {
        input x: [4, 4, 2];
        let b = dense_block(x, 2);
        let wide = Dense(height(b) * width(b) + channels(x))(flatten(b));
        output y = Dense(2)(wide);
    }

    /// GlobalMaxPooling2D, UpSampling2D (nearest and bilinear), Reshape
    /// (with an inferred axis), Permute, LayerNormalization with and
    /// without gamma and beta, BatchNormalization without them, and gelu
    /// and swish fused into a convolution and a dense layer (which keep
    /// their pre-activation) and as layers of their own.
    struct ShapeLayers {
        input x: [3, 4, 2];
        let c = Conv2D(3, 3, padding = same, activation = gelu)(x);
        let up = UpSampling2D((2, 1))(c);
        let bi = UpSampling2D(size = (1, 3), interpolation = "bilinear")(c);
        let g = concat(GlobalMaxPooling2D()(up), global_max_pooling2d(bi));
        let r = Reshape((-1, 2))(x);
        let p = Permute((2, 1))(r);
        let n = LayerNormalization()(p);
        let m = LayerNormalization(center = false, scale = false, epsilon = 0.01)(Dense(5, activation = swish)(n));
        let b = BatchNormalization(center = false)(flatten(m));
        let b = BatchNormalization(scale = false)(b);
        let s = gelu(swish(Activation(silu)(b)));
        output y = Dense(3, activation = tanh)(concat(g, s, Reshape((24,))(x)));
    }

    /// The convolution family in one network: dilated and grouped Conv2D
    /// (one feeding a residual add, one a concatenation, so neither may be
    /// fused into them), DepthwiseConv2D, SeparableConv2D, and
    /// Conv2DTranspose with `same`, `valid` and `output_padding`; gelu and
    /// swish (kept pre-activations) on the depthwise and separable ones.
    struct ConvFamily2d {
        input x: [6, 6, 4];
        let d = Conv2D(4, 3, padding = same, dilation_rate = 2, activation = tanh)(x);
        let g = Conv2D(4, 3, padding = same, groups = 2)(x);
        let r = tanh(add(g, d));
        let w = DepthwiseConv2D(3, strides = 2, padding = same, depth_multiplier = 2, activation = gelu)(r);
        let s = SeparableConv2D(3, (3, 2), dilation_rate = (1, 2), depth_multiplier = 2, activation = swish)(x);
        let t = Conv2DTranspose(2, 3, strides = 2, padding = same, activation = tanh)(w);
        let v = Conv2DTranspose(2, 2, strides = 3, output_padding = (1, 2))(s);
        let c = concat(t, Conv2D(2, 2, padding = same, dilation_rate = 3)(r));
        output y = Dense(2)(concat(flatten(c), flatten(v)));
    }

    /// Conv1D (causal and dilated, strided and grouped) and the 1-D pools on
    /// `[steps, channels]`, with Dense on every step.
    struct ConvFamily1d {
        input x: [12, 3];
        let a = Conv1D(4, 3, padding = causal, dilation_rate = 2, activation = tanh)(x);
        let b = MaxPooling1D(3, strides = 2, padding = same)(a);
        let c = Conv1D(4, 2, strides = 2, groups = 2)(b);
        let d = AveragePooling1D(2, padding = same)(Dense(4)(a));
        output y = Dense(2)(concat(GlobalAveragePooling1D()(c), flatten(d)));
    }

    struct TwoHeads {
        input image: [6, 6, 2];
        input meta: [3];
        let c = Conv2D(4, 3, padding = same)(image);
        let c = BatchNormalization()(c);
        let c = tanh(c);
        let z = Conv2D(4, 3, strides = 2, padding = same)(c);
        let shortcut = Conv2D(4, 1, strides = 2)(image);
        let r = tanh(add(z, shortcut));
        let g = GlobalAveragePooling2D()(r);
        let g = Dropout(0.25)(g);
        let m = Dense(4, activation = tanh)(meta);
        let joined = concat(g, m);
        output class = Dense(3, activation = softmax)(joined);
        output value = Dense(1)(joined);
    }
}

#[test]
fn small_residual_network_gradients() {
    let mut net = SmallResidual::new(&mut common::rng(1));
    common::check_network(&mut net, 2, 10);
}

#[test]
fn small_inception_network_gradients() {
    let mut net = SmallInception::new(&mut common::rng(2));
    common::check_network(&mut net, 2, 20);
}

#[test]
fn siamese_network_with_shared_layer_gradients() {
    let mut net = Siamese::new(&mut common::rng(3));
    common::check_network(&mut net, 3, 30);
    // One kernel for both branches: 6*4 + 4 + 8*1 + 1 parameters.
    assert_eq!(Siamese::PARAM_COUNT, 37);
    let summary = Siamese::summary();
    let row = summary
        .lines()
        .find(|l| l.starts_with("dense_1 (Dense)"))
        .unwrap();
    assert!(row.contains("input_1[0][0]"), "{summary}");
    assert!(summary.contains("input_2[0][0]"), "{summary}");
    assert!(
        summary.contains("dense_1[1][0]"),
        "second application is node 1: {summary}"
    );
}

#[test]
fn two_input_two_output_network_with_projection_and_batch_norm_gradients() {
    let mut net = TwoHeads::new(&mut common::rng(4));
    common::check_network(&mut net, 3, 40);
    assert_eq!(TwoHeads::NON_TRAINABLE_PARAM_COUNT, 8);
}

#[test]
fn convolutions_written_into_concatenations_gradients() {
    let mut net = ConcatHeads::new(&mut common::rng(6));
    common::check_network(&mut net, 2, 60);
}

#[test]
fn elementwise_merges_and_functions_gradients() {
    let mut net = ElementwiseHeads::new(&mut common::rng(7));
    common::check_network(&mut net, 3, 70);
    // Only the encoder (shared), the sigmoid term and the head have weights.
    assert_eq!(ElementwiseHeads::PARAM_COUNT, (5 * 4 + 4) * 2 + 16 + 1);
    let summary = ElementwiseHeads::summary();
    for row in [
        "subtract_1 (Subtract)",
        "absolute_1 (Absolute)",
        "square_1 (Square)",
        "square_2 (Square)",
        "sqrt_1 (Sqrt)",
        "multiply_1 (Multiply)",
        "average_1 (Average)",
        "maximum_1 (Maximum)",
        "closest (Minimum)",
    ] {
        let line = summary
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no row `{row}` in\n{summary}"));
        assert!(line.contains("(None, 4)"), "{line}");
        assert!(line.split_whitespace().any(|w| w == "0"), "no parameters: {line}");
    }
}

#[test]
fn new_activations_fused_standalone_and_in_place_gradients() {
    let mut net = NewActivations::new(&mut common::rng(8));
    common::check_network(&mut net, 3, 80);
    let summary = NewActivations::summary();
    assert!(summary.contains("activation_1 (Activation)"), "{summary}");
    assert!(
        summary.contains("leaky_re_lu_1 (LeakyReLU)      (None, 3)             0"),
        "{summary}"
    );
    assert!(
        summary.contains("re_lu_1 (ReLU)                 (None, 3)             0"),
        "{summary}"
    );
    assert!(summary.contains("leaky (LeakyReLU)"), "{summary}");
}

#[test]
fn zero_padding_and_cropping_gradients() {
    let mut net = PadCrop::new(&mut common::rng(9));
    common::check_network(&mut net, 2, 90);
    let summary = PadCrop::summary();
    for row in [
        "zero_padding2d_1 (ZeroPadding2D) (None, 8, 8, 2)       0",
        "conv2d_1 (Conv2D)              (None, 6, 6, 3)       57",
        "cropping2d_1 (Cropping2D)      (None, 4, 2, 3)       0",
        "cropping2d_2 (Cropping2D)      (None, 4, 3, 2)       0",
        "zero_padding2d_2 (ZeroPadding2D) (None, 6, 5, 2)       0",
    ] {
        assert!(summary.contains(row), "no `{row}` in\n{summary}");
    }
}

#[test]
fn dimensions_read_at_compile_time_gradients() {
    let mut net = GrowingDenseBlock::new(&mut common::rng(11));
    common::check_network(&mut net, 2, 110);
    // Channels 2 → 4 → 6 → 8, then a 1x1 convolution to 8 / 2 = 4; the
    // dense layer has 4 * 4 + 2 = 18 units.
    let convs = (3 * 3 * 2 * 2 + 2) + (3 * 3 * 4 * 2 + 2) + (3 * 3 * 6 * 2 + 2) + (8 * 4 + 4);
    assert_eq!(
        GrowingDenseBlock::PARAM_COUNT,
        convs + (64 * 18 + 18) + (18 * 2 + 2)
    );
    assert!(GrowingDenseBlock::summary().contains("(None, 4, 4, 4)"));
}

#[test]
fn shape_layers_gelu_and_swish_gradients() {
    let mut net = ShapeLayers::new(&mut common::rng(10));
    common::check_network(&mut net, 3, 100);
}

#[allow(dead_code, clippy::all)]
mod keras {
    include!("../nn-runtime/tests/fixtures/keras_shape_layers.rs");
}

/// Every row of `ShapeLayers`'s summary (class, output shape, parameters)
/// equals Keras 3's for the same model, as are the trainable and
/// non-trainable totals (`tools/keras/shape_layer_references.py`).
#[test]
fn shape_layers_summary_rows_equal_keras() {
    use nn::Model;
    let spec = <ShapeLayers as Model>::SPEC;
    let mut ours: Vec<(&str, Vec<usize>, usize)> = spec
        .layers
        .iter()
        .map(|l| (l.kind, l.output_shape.to_vec(), l.params))
        .collect();
    let mut keras: Vec<(&str, Vec<usize>, usize)> = keras::SHAPE_LAYERS_SUMMARY
        .iter()
        .map(|(k, s, p)| (*k, s.to_vec(), *p))
        .collect();
    ours.sort();
    keras.sort();
    assert_eq!(ours, keras);
    assert_eq!(
        (
            ShapeLayers::TRAINABLE_PARAM_COUNT,
            ShapeLayers::NON_TRAINABLE_PARAM_COUNT
        ),
        keras::SHAPE_LAYERS_COUNTS
    );
}

#[allow(dead_code, clippy::all)]
mod keras_conv_family {
    include!("fixtures/keras_conv_family.rs");
}

/// Every row of a network's summary (class, output shape, parameters), in
/// any order, and its trainable and non-trainable totals.
fn summary_rows_equal<M: nn::Model>(
    keras: &[(&str, &[usize], usize)],
    counts: (usize, usize),
    trainable: usize,
    frozen: usize,
) {
    let mut ours: Vec<(&str, Vec<usize>, usize)> = M::SPEC
        .layers
        .iter()
        .map(|l| (l.kind, l.output_shape.to_vec(), l.params))
        .collect();
    let mut keras: Vec<(&str, Vec<usize>, usize)> =
        keras.iter().map(|(k, s, p)| (*k, s.to_vec(), *p)).collect();
    ours.sort();
    keras.sort();
    assert_eq!(ours, keras);
    assert_eq!((trainable, frozen), counts);
}

#[test]
fn convolution_family_gradients() {
    let mut net = ConvFamily2d::new(&mut common::rng(10));
    common::check_network(&mut net, 2, 91);
    let mut net = ConvFamily1d::new(&mut common::rng(11));
    common::check_network(&mut net, 3, 92);
}

/// Output shapes and parameter counts equal Keras 3's for the same models
/// (`tools/keras/conv_family_references.py`), and the summary prints them.
#[test]
fn convolution_family_summary_rows_equal_keras() {
    summary_rows_equal::<ConvFamily2d>(
        keras_conv_family::CONV_FAMILY_2D_SUMMARY,
        keras_conv_family::CONV_FAMILY_2D_COUNTS,
        ConvFamily2d::TRAINABLE_PARAM_COUNT,
        ConvFamily2d::NON_TRAINABLE_PARAM_COUNT,
    );
    summary_rows_equal::<ConvFamily1d>(
        keras_conv_family::CONV_FAMILY_1D_SUMMARY,
        keras_conv_family::CONV_FAMILY_1D_COUNTS,
        ConvFamily1d::TRAINABLE_PARAM_COUNT,
        ConvFamily1d::NON_TRAINABLE_PARAM_COUNT,
    );
    let summary = ConvFamily2d::summary();
    for row in [
        "depthwise_conv2d_1 (DepthwiseConv2D) (None, 3, 3, 8)       80",
        "separable_conv2d_1 (SeparableConv2D) (None, 4, 4, 3)       75",
        "conv2d_transpose_2 (Conv2DTranspose) (None, 12, 13, 2)     26",
        "Total params: 1,499",
    ] {
        assert!(summary.contains(row), "no `{row}` in\n{summary}");
    }
    let summary = ConvFamily1d::summary();
    for row in [
        "conv1d_1 (Conv1D)              (None, 12, 4)         40",
        "global_average_pooling1d_1 (GlobalAveragePooling1D) (None, 4)             0",
        "Total params: 138",
    ] {
        assert!(summary.contains(row), "no `{row}` in\n{summary}");
    }
}

/// The graph drawing shows the new kinds with their configuration.
#[test]
fn convolution_family_graph_drawing() {
    let dot = ConvFamily2d::dot();
    for label in [
        "conv2d_1: Conv2D\\n4 filters 3x3 (dilated to 5x5), strides 1x1, same, tanh",
        "conv2d_2: Conv2D\\n4 filters 3x3, strides 1x1, same, groups 2, linear",
        "depthwise_conv2d_1: DepthwiseConv2D\\n3x3, depth_multiplier 2, strides 2x2, same, gelu|output: (None, 3, 3, 8)",
        "separable_conv2d_1: SeparableConv2D\\n3 filters 3x2 (dilated to 3x3), depth_multiplier 2",
        "conv2d_transpose_2: Conv2DTranspose\\n2 filters 2x2, strides 3x3, valid, output_padding 1x2, linear|output: (None, 12, 13, 2)",
    ] {
        assert!(dot.contains(label), "no `{label}` in\n{dot}");
    }
    assert!(
        dot.contains("\"activation_1\" -> \"depthwise_conv2d_1\";"),
        "{dot}"
    );
    let dot = ConvFamily1d::dot();
    assert!(
        dot.contains(
            "conv1d_1: Conv1D\\n4 filters 3, strides 1, causal, dilation_rate 2, tanh|output: (None, 12, 4)"
        ),
        "{dot}"
    );
}

network! {
    /// 5x5 convolutions: valid padding on a plane that is not a multiple of
    /// the tile, same padding with a residual shortcut, and one written into
    /// a concatenation.
    struct FiveByFive {
        input x: [9, 8, 2];
        let a = Conv2D(3, 5, activation = tanh)(x);
        let b = Conv2D(3, 5, padding = same)(a);
        let s = tanh(add(b, a));
        let c = concat([Conv2D(2, 5, padding = same, activation = tanh)(s), s]);
        output y = Dense(2, activation = softmax)(flatten(c));
    }
}

/// The same networks with every stride-1 3x3 convolution on Winograd, both
/// tiles (the cost rule keeps layers this small direct), including one
/// written into a concatenation and one before batch norm; the 5x5
/// convolutions (the inception blocks', [`FiveByFive`]) run F(2x2,5x5) and
/// F(4x4,5x5).
#[test]
fn networks_with_winograd_convolutions_gradients() {
    use nn::runtime::conv_algorithm::{self, Choice};
    use nn::runtime::winograd::Tile;
    for tile in [Tile::F2, Tile::F4] {
        conv_algorithm::force(Some(Choice::Winograd(tile)));
        common::check_network(&mut SmallResidual::new(&mut common::rng(1)), 2, 10);
        common::check_network(&mut SmallInception::new(&mut common::rng(2)), 2, 20);
        common::check_network(&mut ConcatHeads::new(&mut common::rng(6)), 2, 60);
        common::check_network(&mut TwoHeads::new(&mut common::rng(4)), 3, 40);
        common::check_network(&mut FiveByFive::new(&mut common::rng(7)), 2, 70);
    }
    conv_algorithm::force(None);
}

network! {
    /// Identity on the input (its gradient is the network's input
    /// gradient), in the middle, on a tensor used twice, and as an output.
    struct Identities {
        input x: [4, 4, 2];
        let i = Identity()(x);
        let c = Conv2D(3, 3, padding = same, activation = tanh)(i);
        let m = Identity(name = "middle")(c);
        let s = add(m, Conv2D(3, 1, activation = tanh)(m));
        output y = Dense(2, activation = tanh)(flatten(s));
        output same = Identity()(s);
    }

    /// The input itself.
    struct Echo {
        input x: [3, 2];
        output y = Identity()(x);
    }
}

#[test]
fn identity_layers_gradients() {
    let mut net = Identities::new(&mut common::rng(12));
    common::check_network(&mut net, 2, 120);
    use nn::runtime::Model;
    let mut echo = Echo::new(&mut common::rng(1));
    let x = common::random_vec(&mut common::rng(13), 2 * 6);
    echo.forward_slices(2, &[&x], nn::Mode::Infer).unwrap();
    assert_eq!(echo.output(0).unwrap(), &x[..]);
    let summary = Identities::summary();
    for row in [
        "identity_1 (Identity)          (None, 4, 4, 2)       0",
        "middle (Identity)              (None, 4, 4, 3)       0",
        "identity_2 (Identity)          (None, 4, 4, 3)       0",
    ] {
        assert!(summary.contains(row), "no `{row}` in\n{summary}");
    }
}
