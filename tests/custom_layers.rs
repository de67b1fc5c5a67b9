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

    fn forward(&self, _batch: usize, x: &[f32], y: &mut [f32]) {
        for (y, &x) in y.iter_mut().zip(x) {
            *y = x * x.abs();
        }
    }

    fn backward(&self, _batch: usize, x: &[f32], _y: &[f32], dy: &[f32], dx: &mut [f32]) {
        for ((dx, &dy), &x) in dx.iter_mut().zip(dy).zip(x) {
            *dx += 2.0 * x.abs() * dy;
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

    fn forward(&self, _batch: usize, x: &[f32], y: &mut [f32]) {
        for (y, pair) in y.iter_mut().zip(x.chunks_exact(2)) {
            *y = pair[0] + pair[1];
        }
    }

    fn backward(&self, _batch: usize, _x: &[f32], _y: &[f32], dy: &[f32], dx: &mut [f32]) {
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

    fn forward(&self, _batch: usize, _x: &[f32], y: &mut [f32]) {
        y.fill(0.0);
    }

    fn backward(&self, _batch: usize, _x: &[f32], _y: &[f32], _dy: &[f32], _dx: &mut [f32]) {}
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
    let Err(error) = WrongShape::try_new(&mut common::rng(1)) else {
        panic!("a wrong declared output shape was accepted");
    };
    assert!(matches!(error, NnError::CustomLayer { .. }), "{error:?}");
    let message = error.to_string();
    for part in [
        "WrongShape",
        "custom_1",
        "ClaimsFive",
        "[5]",
        "output = [6]",
        "input shape [6]",
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
}

#[test]
fn a_layer_rejecting_its_input_shape_is_an_error_at_construction() {
    let Err(error) = OddInput::try_new(&mut common::rng(1)) else {
        panic!("an input shape the layer rejects was accepted");
    };
    let message = error.to_string();
    for part in [
        "OddInput",
        "custom_1",
        "PairSums",
        "[3]",
        "needs an even last axis",
    ] {
        assert!(message.contains(part), "{part:?} missing from: {message}");
    }
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
        "`output` is the output shape per sample as a list of integers",
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
    assert_error(
        "Custom(V, output = [3], weights = [[3]])",
        "Custom takes only `output = [..]`",
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
    assert_error("Custom(V, output = [100000, 100000, 100000])", "more than");
    // The declared shape flows on: a later layer sees it.
    let errs = errors("struct A { input x: [4]; output y = Conv2D(2, 3)(Custom(V, output = [5])(x)); }");
    assert!(errs.iter().any(|m| m.contains("[5]")), "{errs:?}");
}
