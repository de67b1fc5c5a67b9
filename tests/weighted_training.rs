//! `class_weight` and sample weights in `fit` and `evaluate`: the reported
//! loss is the hand-computed weighted sum over the sample count, and the
//! update scales with the weights exactly.

mod common;

use std::collections::HashMap;

use nn::ndarray::{Array1, Array4};
use nn::prelude::*;

network! {
    struct Small {
        input x: [2, 2, 1];
        let h = Dense(5, activation = tanh)(flatten(x));
        output y = Dense(3, activation = softmax)(h);
    }

    struct FlatInput {
        input v: [4];
        output y = Dense(3, activation = softmax)(v);
    }
}

fn data() -> (Array4<f32>, Array1<f32>) {
    let x = Array4::from_shape_fn((9, 2, 2, 1), |(i, r, c, _)| {
        ((i * 3 + r * 5 + c) % 7) as f32 / 7.0 - 0.5
    });
    let y = Array1::from_shape_fn(9, |i| (i % 3) as f32);
    (x, y)
}

fn quiet(epochs: usize, batch_size: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size,
        shuffle: false,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    }
}

/// -ln p(true class) per sample, from predict (no dropout or batch norm, so
/// training and inference forward passes agree).
fn sample_losses(net: &mut Small, x: &Array4<f32>, y: &Array1<f32>) -> Vec<f64> {
    let p = predict(net, &[x.view().into_dyn()], 9).unwrap();
    (0..9).map(|i| -(p[0][[i, y[i] as usize]] as f64).ln()).collect()
}

#[test]
fn class_weight_and_sample_weight_losses_match_hand_computation() {
    let (x, y) = data();
    let mut net = Small::new(&mut common::rng(3));
    let losses = sample_losses(&mut net, &x, &y);
    // Learning rate 0: the weights never change, so every epoch's loss is
    // the weighted mean loss of the initial network.
    let mut trainer = Trainer::new(Sgd::new(0.0), Loss::SparseCategoricalCrossentropy);
    let class_weight: HashMap<usize, f32> = [(0, 3.0), (2, 0.5)].into_iter().collect();
    let config = FitConfig {
        class_weight: Some(class_weight),
        ..quiet(1, 4)
    };
    let train = Dataset::new(x.clone(), y.clone()).unwrap();
    let history = trainer.fit(&mut net, &train, None, &config, &mut []).unwrap();
    let w = |i: usize| [3.0, 1.0, 0.5][i % 3];
    let expected: f64 = (0..9).map(|i| w(i) * losses[i]).sum::<f64>() / 9.0;
    let got = history.series("loss")[0];
    assert!((got - expected).abs() < 1e-6 * expected, "{got} vs {expected}");

    // The same weights as sample weights in evaluate.
    let weighted = train
        .clone()
        .with_sample_weight((0..9).map(|i| w(i) as f32).collect())
        .unwrap();
    let eval = trainer
        .evaluate(&mut net, &weighted, 4)
        .unwrap()
        .get("loss")
        .unwrap();
    assert!((eval - expected).abs() < 1e-6 * expected, "{eval} vs {expected}");
    // Unweighted evaluate is the plain mean.
    let plain = trainer
        .evaluate(&mut net, &train, 4)
        .unwrap()
        .get("loss")
        .unwrap();
    let mean = losses.iter().sum::<f64>() / 9.0;
    assert!((plain - mean).abs() < 1e-6 * mean, "{plain} vs {mean}");

    // Both at once is refused, as in Keras; so is class_weight on a
    // network with several outputs (not tested here: single output).
    let err = trainer
        .fit(&mut net, &weighted, None, &config, &mut [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not both"), "{err}");
}

#[test]
fn doubling_every_weight_doubles_the_update_exactly() {
    let (x, y) = data();
    let twice = Dataset::new(x.clone(), y.clone())
        .unwrap()
        .with_sample_weight(vec![2.0; 9])
        .unwrap();
    let mut a = Small::new(&mut common::rng(4));
    let mut b = Small::new(&mut common::rng(4));
    Trainer::new(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy)
        .fit(&mut a, &twice, None, &quiet(1, 9), &mut [])
        .unwrap();
    Trainer::new(Sgd::new(0.2), Loss::SparseCategoricalCrossentropy)
        .fit(&mut b, &Dataset::new(x, y).unwrap(), None, &quiet(1, 9), &mut [])
        .unwrap();
    // Scaling by 2 is exact through the linear backward pass.
    assert_eq!(a.params(), b.params());
}

#[test]
fn augmentation_needs_an_image_input() {
    let x = nn::ndarray::Array2::<f32>::zeros((6, 4));
    let y = Array1::from_shape_fn(6, |i| (i % 3) as f32);
    let config = FitConfig {
        augmentation: Some(Augmentation {
            flip: Some(Flip::Horizontal),
            ..Augmentation::default()
        }),
        ..quiet(1, 3)
    };
    let mut net = FlatInput::new(&mut common::rng(1));
    let err = Trainer::new(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy)
        .fit(&mut net, &Dataset::new(x, y).unwrap(), None, &config, &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("augmentation needs one image input [height, width, channels]"),
        "{err}"
    );
}
