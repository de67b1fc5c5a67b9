//! User-defined layers: `Custom(value, output = [..])(x)` with a value
//! implementing `nn::CustomLayer`. Checked: gradients of whole networks
//! against finite differences (a custom layer between built-in ones, a
//! tensor read by a custom layer and another layer, a shape-changing custom
//! layer applied twice), training through one, the summary row, the
//! construction-time check of the declared output shape (an error naming
//! the layer and both shapes, never a panic from `try_new`), and misuse in
//! the DSL as spanned compile errors.

mod common;

use std::str::FromStr;

use ndarray::{Array2, Array4};
use nn::prelude::*;
use proc_macro2::TokenStream;

/// `y = x * |x|` element-wise (derivative `2 |x|`), any shape.
struct SignedSquare;

impl CustomLayer for SignedSquare {
    fn class_name(&self) -> &str {
        "SignedSquare"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        Ok(input.to_vec())
    }

    fn forward(&self, _batch: usize, x: &[f32], _weights: &[&[f32]], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = x * x.abs();
        }
    }

    fn backward(
        &self,
        _batch: usize,
        x: &[f32],
        _weights: &[&[f32]],
        _y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        _dweights: &mut [&mut [f32]],
    ) {
        for ((dx, &dy), &x) in dx.iter_mut().zip(dy).zip(x) {
            *dx += 2.0 * x.abs() * dy;
        }
    }
}

/// Learnable per-channel affine map: `y = x * scale[c] + shift[c]` over the
/// last axis `c`; `scale` starts near one (drawn from the network's random
/// numbers), `shift` at zero.
struct Scale;

impl CustomLayer for Scale {
    fn class_name(&self) -> &str {
        "Scale"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        Ok(input.to_vec())
    }

    fn weights(&self, input: &[usize]) -> Vec<(String, Vec<usize>)> {
        let channels = *input.last().unwrap_or(&1);
        vec![("scale".into(), vec![channels]), ("shift".into(), vec![channels])]
    }

    fn initialize(&self, index: usize, values: &mut [f32], rng: &mut dyn rand::RngCore) {
        if index == 0 {
            for v in values {
                *v = 1.0 + (rng.next_u32() as f32 / u32::MAX as f32 - 0.5) * 0.5;
            }
        }
    }

    fn forward(&self, _batch: usize, x: &[f32], weights: &[&[f32]], y: &mut [f32]) {
        let (scale, shift) = (weights[0], weights[1]);
        let c = scale.len();
        for (i, (y, &x)) in y.iter_mut().zip(x).enumerate() {
            *y = x * scale[i % c] + shift[i % c];
        }
    }

    fn backward(
        &self,
        _batch: usize,
        x: &[f32],
        weights: &[&[f32]],
        _y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        dweights: &mut [&mut [f32]],
    ) {
        let scale = weights[0];
        let c = scale.len();
        for (i, (&x, &dy)) in x.iter().zip(dy).enumerate() {
            dx[i] += dy * scale[i % c];
            dweights[0][i % c] += dy * x;
            dweights[1][i % c] += dy;
        }
    }
}

/// Sums neighbouring pairs of the last axis: `[.., 2k]` → `[.., k]`.
struct PairSums;

impl CustomLayer for PairSums {
    fn class_name(&self) -> &str {
        "PairSums"
    }

    fn output_shape(&self, input: &[usize]) -> Result<Vec<usize>, String> {
        match input.split_last() {
            Some((&last, rest)) if last % 2 == 0 => {
                let mut out = rest.to_vec();
                out.push(last / 2);
                Ok(out)
            }
            _ => Err(format!("needs an even last axis, got {input:?}")),
        }
    }

    fn forward(&self, _batch: usize, x: &[f32], _weights: &[&[f32]], y: &mut [f32]) {
        for (y, pair) in y.iter_mut().zip(x.chunks_exact(2)) {
            *y = pair[0] + pair[1];
        }
    }

    fn backward(
        &self,
        _batch: usize,
        _x: &[f32],
        _weights: &[&[f32]],
        _y: &[f32],
        dy: &[f32],
        dx: &mut [f32],
        _dweights: &mut [&mut [f32]],
    ) {
        for (pair, &dy) in dx.chunks_exact_mut(2).zip(dy) {
            pair[0] += dy;
            pair[1] += dy;
        }
    }
}

/// Claims any input shape gives `[5]`: declarations of `[6]` disagree.
struct ClaimsFive;

impl CustomLayer for ClaimsFive {
    fn class_name(&self) -> &str {
        "ClaimsFive"
    }

    fn output_shape(&self, _input: &[usize]) -> Result<Vec<usize>, String> {
        Ok(vec![5])
    }

    fn forward(&self, _batch: usize, _x: &[f32], _weights: &[&[f32]], y: &mut [f32]) {
        y.fill(0.0);
    }

    fn backward(
        &self,
        _batch: usize,
        _x: &[f32],
        _weights: &[&[f32]],
        _y: &[f32],
        _dy: &[f32],
        _dx: &mut [f32],
        _dweights: &mut [&mut [f32]],
    ) {
    }
}

network! {
    /// A custom activation between dense layers; `h` is read by the custom
    /// layer and by `add`, so its gradient collects both contributions.
    struct Activated {
        input x: [5];
        let h = Dense(6, activation = tanh)(x);
        let s = Custom(SignedSquare, output = [6])(h);
        output y = Dense(3)(add(s, h));
    }

    /// A shape-changing custom layer on an image, shared by two calls, its
    /// declared output shape written with `channels(..)`; later layers
    /// are laid out from the declaration.
    struct Halved {
        input image: [4, 4, 8];
        let c = Conv2D(8, 3, padding = same, activation = tanh)(image);
        let pairs = Custom(PairSums, output = [4, 4, channels(c) / 2], name = "pairs");
        let once = pairs(c);
        let twice = pairs(Conv2D(8, 1)(once));
        output y = Dense(3)(flatten(twice));
    }

    /// A learnable custom layer on a convolution's channels, and one on the
    /// network's input (whose gradient is usually not wanted).
    struct Scaled {
        input image: [4, 4, 3];
        let first = Custom(Scale, output = [4, 4, 3], weights = [scale = [3], shift = [3]], name = "first")(image);
        let c = Conv2D(4, 3, padding = same, activation = tanh)(first);
        let s = Custom(Scale, output = [4, 4, 4], weights = [scale = [channels(c)], shift = [4]])(c);
        output y = Dense(2)(flatten(s));
    }

    /// Weights the layer disagrees with (`Scale` has `scale = [4]` here).
    struct WrongWeights {
        input x: [4];
        output y = Dense(2)(Custom(Scale, output = [4], weights = [scale = [3], shift = [4]])(x));
    }

    /// A declaration the layer disagrees with.
    struct WrongShape {
        input x: [4];
        output y = Dense(2)(Custom(ClaimsFive, output = [6])(Dense(6)(x)));
    }

    /// A layer that rejects its input shape.
    struct OddInput {
        input x: [3];
        output y = Dense(2)(Custom(PairSums, output = [1])(x));
    }

    /// For training: images to three classes through a custom activation.
    struct Classifier {
        input image: [4, 4, 2];
        let c = Conv2D(4, 3, padding = same)(image);
        let a = Custom(SignedSquare, output = [4, 4, 4])(c);
        let a = Custom(Scale, output = [4, 4, 4], weights = [scale = [4], shift = [4]])(a);
        output label = Dense(3, activation = softmax)(flatten(a));
    }
}

#[test]
fn gradients_through_a_custom_activation_match_finite_differences() {
    let mut net = Activated::try_new(&mut common::rng(1)).unwrap();
    common::check_network(&mut net, 3, 2);
}

#[test]
fn gradients_through_a_shared_shape_changing_custom_layer_match_finite_differences() {
    let mut net = Halved::try_new(&mut common::rng(3)).unwrap();
    common::check_network(&mut net, 2, 4);
}

#[test]
fn gradients_of_a_learnable_custom_layer_match_finite_differences() {
    let mut net = Scaled::try_new(&mut common::rng(11)).unwrap();
    common::check_network(&mut net, 2, 12);
}

#[test]
fn weight_gradients_do_not_depend_on_wanting_the_input_gradient() {
    // `first` reads the network input: without input gradients its `dx`
    // goes to scratch, and the weight gradients must be the same.
    let mut net = Scaled::new(&mut common::rng(13));
    let x = common::random_vec(&mut common::rng(14), 2 * 48);
    let dy = common::random_vec(&mut common::rng(15), 2 * 2);
    let mut grads = Vec::new();
    for want in [false, true] {
        net.set_input_grads(want);
        net.forward_slices(2, &[&x], Mode::Train).unwrap();
        net.backward_slices(&[&dy]).unwrap();
        grads.push(net.param_grads().to_vec());
    }
    assert_eq!(grads[0], grads[1]);
    let first_scale = Scaled::SPEC
        .params
        .iter()
        .find(|p| p.key == "first.scale")
        .unwrap();
    assert!(grads[0][first_scale.offset..first_scale.offset + 3]
        .iter()
        .all(|&g| g != 0.0));
}

#[test]
fn custom_weights_are_initialised_by_the_layer_and_counted() {
    let net = Scaled::new(&mut common::rng(16));
    let keys: Vec<&str> = Scaled::SPEC.params.iter().map(|p| p.key).collect();
    assert_eq!(
        keys,
        [
            "first.scale",
            "first.shift",
            "conv2d_1.kernel",
            "conv2d_1.bias",
            "custom_1.scale",
            "custom_1.shift",
            "dense_1.kernel",
            "dense_1.bias"
        ]
    );
    let find = |key: &str| Scaled::SPEC.params.iter().find(|p| p.key == key).unwrap();
    for layer in ["first", "custom_1"] {
        let scale = find(&format!("{layer}.scale"));
        let values = &net.params()[scale.offset..scale.offset + scale.len];
        assert!(values.iter().all(|&v| (0.74..=1.26).contains(&v)), "{values:?}");
        assert!(
            values.windows(2).any(|w| w[0] != w[1]),
            "drawn, not constant: {values:?}"
        );
        let shift = find(&format!("{layer}.shift"));
        assert!(net.params()[shift.offset..shift.offset + shift.len]
            .iter()
            .all(|&v| v == 0.0));
    }
    // Two networks from different seeds differ, from the same seed agree.
    assert_ne!(Scaled::new(&mut common::rng(17)).params(), net.params());
    assert_eq!(Scaled::new(&mut common::rng(16)).params(), net.params());
    let total = 6 + (3 * 3 * 3 * 4 + 4) + 8 + (64 * 2 + 2);
    assert_eq!(Scaled::PARAM_COUNT, total);
    assert_eq!(Scaled::TRAINABLE_PARAM_COUNT, total);
    let summary = Scaled::summary();
    assert!(
        summary
            .lines()
            .any(|r| r.starts_with("first (Custom)") && r.contains("(None, 4, 4, 3)") && r.contains(" 6 ")),
        "{summary}"
    );
    assert!(
        summary
            .lines()
            .any(|r| r.starts_with("custom_1 (Custom)") && r.contains(" 8 ")),
        "{summary}"
    );
    assert!(summary.contains(&format!("Total params: {total}")), "{summary}");
}

#[test]
fn custom_weights_round_trip_through_a_weight_file() {
    let dir = common::TempDir::new("custom");
    let path = dir.join("scaled.safetensors");
    let mut net = Scaled::new(&mut common::rng(18));
    // Values a fresh network cannot have, so loading visibly restores them.
    let shift = Scaled::SPEC
        .params
        .iter()
        .find(|p| p.key == "custom_1.shift")
        .unwrap();
    net.params_mut()[shift.offset..shift.offset + 4].copy_from_slice(&[0.5, -1.0, 2.0, 0.25]);
    net.save_weights(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let names: Vec<String> = file.names().into_iter().map(|s| s.to_string()).collect();
    for key in ["first.scale", "first.shift", "custom_1.scale", "custom_1.shift"] {
        assert!(names.iter().any(|n| n == key), "{key} missing from {names:?}");
    }
    let mut other = Scaled::new(&mut common::rng(19));
    assert_ne!(other.params(), net.params());
    other.load_weights(&path).unwrap();
    assert_eq!(other.params(), net.params());
}

/// `result` is an `NnError::CustomLayer` whose message names every part.
fn assert_construction_error<T>(result: Result<T, NnError>, accepted: &str, parts: &[&str]) {
    let Err(error) = result else {
        panic!("{accepted}");
    };
    assert!(matches!(error, NnError::CustomLayer { .. }), "{error:?}");
    let message = error.to_string();
    for part in parts {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[test]
fn a_declaration_of_weights_the_layer_disagrees_with_is_an_error_at_construction() {
    assert_construction_error(
        WrongWeights::try_new(&mut common::rng(1)),
        "wrong declared weights were accepted",
        &[
            "WrongWeights",
            "custom_1",
            "Scale",
            "scale = [4]",
            "scale = [3]",
            "input shape [4]",
        ],
    );
}

#[test]
fn the_forward_pass_computes_what_the_layer_says() {
    // `Activated` with its output layer's inputs checked by hand: predict
    // against the built-in layers computed from the parameters.
    let mut net = Activated::new(&mut common::rng(5));
    let x = Array2::from_shape_vec((2, 5), common::random_vec(&mut common::rng(6), 10)).unwrap();
    let y = net.predict(x.view()).unwrap();
    let p = net.params();
    // Dense(6): kernel [5, 6] then bias [6]; Dense(3): kernel [6, 3], bias [3].
    let (k1, b1) = (&p[0..30], &p[30..36]);
    let (k2, b2) = (&p[36..54], &p[54..57]);
    for s in 0..2 {
        let h: Vec<f32> = (0..6)
            .map(|j| ((0..5).map(|i| x[[s, i]] * k1[i * 6 + j]).sum::<f32>() + b1[j]).tanh())
            .collect();
        let sum: Vec<f32> = h.iter().map(|&h| h * h.abs() + h).collect();
        for o in 0..3 {
            let expected = (0..6).map(|j| sum[j] * k2[j * 3 + o]).sum::<f32>() + b2[o];
            assert!((y[[s, o]] - expected).abs() < 1e-5, "{} vs {expected}", y[[s, o]]);
        }
    }
}

#[test]
fn a_network_with_a_custom_layer_trains() {
    let mut rng = common::rng(7);
    let n = 48;
    let x = Array4::from_shape_vec((n, 4, 4, 2), common::random_vec(&mut rng, n * 32)).unwrap();
    let mut y = Array2::<f32>::zeros((n, 3));
    for i in 0..n {
        // A class the inputs determine: the sign pattern of two pixels.
        let class = usize::from(x[[i, 0, 0, 0]] > 0.0) + usize::from(x[[i, 3, 3, 1]] > 0.0);
        y[[i, class]] = 1.0;
    }
    let data = Dataset::new(x, y).unwrap();
    let mut net = Classifier::new(&mut common::rng(8));
    let scale = Classifier::SPEC
        .params
        .iter()
        .find(|p| p.key == "custom_2.scale")
        .unwrap();
    let before = net.params()[scale.offset..scale.offset + scale.len].to_vec();
    let mut trainer = Trainer::new(Adam::new(0.01), Loss::CategoricalCrossentropy);
    let config = FitConfig {
        epochs: 15,
        batch_size: 8,
        seed: 3,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let history = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap();
    let loss = history.series("loss");
    assert!(
        loss.last().unwrap() < &(loss[0] * 0.8),
        "loss did not decrease enough: {loss:?}"
    );
    let after = &net.params()[scale.offset..scale.offset + scale.len];
    assert!(
        before.iter().zip(after).all(|(b, a)| b != a),
        "{before:?} → {after:?}"
    );
}

#[test]
fn the_summary_shows_a_custom_layer_with_its_declared_shape() {
    let summary = Halved::summary();
    let rows: Vec<&str> = summary.lines().collect();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("pairs (Custom)") && r.contains("(None, 4, 4, 4)") && r.contains(" 0 ")),
        "{summary}"
    );
    // Conv2D(8, 3) on 8 channels, Conv2D(8, 1) on 4, Dense(3) on 64.
    let total = (3 * 3 * 8 * 8 + 8) + (4 * 8 + 8) + (64 * 3 + 3);
    assert_eq!(Halved::PARAM_COUNT, total);
    assert!(summary.contains(&format!("Total params: {total}")), "{summary}");
}

#[test]
fn a_declaration_the_layer_disagrees_with_is_an_error_at_construction() {
    assert_construction_error(
        WrongShape::try_new(&mut common::rng(1)),
        "a wrong declared output shape was accepted",
        &[
            "WrongShape",
            "custom_1",
            "ClaimsFive",
            "[5]",
            "output = [6]",
            "input shape [6]",
        ],
    );
}

#[test]
fn a_layer_rejecting_its_input_shape_is_an_error_at_construction() {
    assert_construction_error(
        OddInput::try_new(&mut common::rng(1)),
        "an input shape the layer rejects was accepted",
        &[
            "OddInput",
            "custom_1",
            "PairSums",
            "[3]",
            "needs an even last axis",
        ],
    );
}

#[test]
#[should_panic(expected = "custom layer `custom_1`")]
fn new_panics_with_the_same_message() {
    WrongShape::new(&mut common::rng(1));
}

#[test]
fn a_network_made_without_its_custom_layers_is_an_error_not_a_panic() {
    // `Model::init` is the plain parameter initialisation: it cannot make
    // custom layers, and running the network says so.
    let mut net = <Activated as Model>::init(&mut common::rng(1));
    let x = Array2::<f32>::zeros((1, 5));
    let error = net.predict(x.view()).unwrap_err();
    assert!(
        error.to_string().contains("made without its custom layers"),
        "{error}"
    );
}

#[test]
fn a_network_with_a_custom_layer_moves_to_another_thread() {
    let mut net = Activated::new(&mut common::rng(1));
    let x = Array2::<f32>::ones((2, 5));
    let here = net.predict(x.view()).unwrap();
    let there = std::thread::spawn(move || net.predict(x.view()).unwrap())
        .join()
        .unwrap();
    assert_eq!(here, there);
}

/// The expansion's `compile_error!` messages for `text`.
fn errors(text: &str) -> Vec<String> {
    let out = nn_macros_core::expand(TokenStream::from_str(text).unwrap()).to_string();
    let mut found = Vec::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find("compile_error") {
        rest = &rest[at..];
        let start = rest.find('"').unwrap() + 1;
        let end = start + rest[start..].find("\" ").unwrap();
        found.push(rest[start..end].to_string());
        rest = &rest[end..];
    }
    found
}

fn assert_error(layer: &str, expected: &str) {
    let text = format!("struct A {{ input x: [4, 4, 6]; output y = Dense(2)(flatten({layer}(x))); }}");
    let errs = errors(&text);
    assert!(
        errs.iter().any(|m| m.contains(expected)),
        "expected an error containing {expected:?} for\n{text}\ngot {errs:?}"
    );
}

#[test]
fn misuse_of_a_custom_layer_is_a_spanned_error() {
    // The correct form expands without errors.
    assert!(errors("struct A { input x: [4]; output y = Custom(V, output = [4])(x); }").is_empty());
    assert!(errors(
        "struct A { input x: [4, 4, 6]; output y = Custom(V::new(2), output = [2, channels(x) * 2])(x); }"
    )
    .is_empty());
    assert_error("Custom(V)", "Custom is missing its `output = [..]` argument");
    assert_error("Custom(output = [3])", "Custom is missing its value");
    assert_error("Custom(V, output = [2.5])", "expected an integer");
    assert_error("Custom(V, output = [k])", "cannot find integer `k`");
    assert_error(
        "Custom(V, output = 6)",
        "`output` is a shape per sample as a list of integers",
    );
    assert_error("Custom(V, output = [])", "`output` has 1 to 6 dimensions");
    assert_error(
        "Custom(V, output = [1, 1, 1, 1, 1, 1, 1])",
        "`output` has 1 to 6 dimensions",
    );
    assert_error(
        "Custom(V, output = [0])",
        "every `output` dimension must be at least 1, got 0",
    );
    assert_error(
        "Custom(V, output = [-3])",
        "every `output` dimension must be at least 1, got -3",
    );
    assert_error(
        "Custom(V, W, output = [3])",
        "Custom takes one value and then `output = [..]`",
    );
    assert_error(
        "Custom(V, output = [3], output = [3])",
        "argument `output` is given twice",
    );
    assert!(errors(
        "struct A { input x: [4]; output y = Custom(V, output = [4], weights = [scale = [4], shift = [channels(x)]])(x); }"
    )
    .is_empty());
    assert_error(
        "Custom(V, output = [3], bias = [3])",
        "Custom takes only `output = [..]`, `weights = [..]`",
    );
    assert_error(
        "Custom(V, output = [3], weights = [[3]])",
        "`weights` lists each weight's name and shape",
    );
    assert_error(
        "Custom(V, output = [3], weights = 3)",
        "`weights` lists each weight's name and shape",
    );
    assert_error(
        "Custom(V, output = [3], weights = [a = 3])",
        "`weight` is a shape per sample as a list",
    );
    assert_error(
        "Custom(V, output = [3], weights = [a = [0]])",
        "every `weight` dimension must be at least 1",
    );
    assert_error(
        "Custom(V, output = [3], weights = [a = [x]])",
        "is a tensor, but an integer is expected",
    );
    assert_error(
        "Custom(V, output = [3], weights = [a = [2], a = [3]])",
        "weight `a` is declared twice",
    );
    assert_error(
        "Custom(V, output = [3], weights = [a = [1], b = [1], c = [1], d = [1], e = [1], f = [1], g = [1], h = [1], i = [1]])",
        "at most 8 weights",
    );
    assert_error(
        "Custom(V, output = [3], weights = [a = [100000, 100000, 100000]])",
        "elements or parameters is out of range",
    );
    assert_error(
        "Custom(V, output = [3], name = 3)",
        "a layer's `name` is a non-empty string",
    );
    assert_error(
        "Custom(V, output = [3], name = \"\")",
        "a layer's `name` is a non-empty string",
    );
    // Huge declared shapes are the usual element-count error, not a panic.
    assert_error(
        "Custom(V, output = [100000, 100000, 100000])",
        "elements or parameters is out of range",
    );
    // The declared shape flows on: a later layer sees it.
    let errs = errors("struct A { input x: [4]; output y = Conv2D(2, 3)(Custom(V, output = [5])(x)); }");
    assert!(errs.iter().any(|m| m.contains("[5]")), "{errs:?}");
}

#[test]
fn onnx_export_refuses_a_custom_layer_by_name() {
    let dir = common::TempDir::new("custom-onnx");
    let path = dir.join("activated.onnx");
    let net = Activated::new(&mut common::rng(1));
    let error = net.save_onnx(&path).unwrap_err().to_string();
    assert!(
        error.contains("Activated") && error.contains("`custom_1` is a custom layer"),
        "{error}"
    );
    assert!(!path.exists(), "nothing is written on error");
}
