//! Losses: values against hand-computed figures, gradients against finite
//! differences, fused softmax/sigmoid gradients against the composed
//! function's finite differences; accuracy counting.

mod common;

use common::*;
use nn_runtime::activation::forward as activate;
use nn_runtime::train::loss::Loss;
use nn_runtime::train::metric::accuracy;
use nn_runtime::Activation;

#[test]
fn categorical_crossentropy_value_matches_hand_computation() {
    let pred = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1];
    let target = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    let v = Loss::CategoricalCrossentropy
        .evaluate(3, &pred, &target, false, 1.0, None)
        .unwrap();
    let expected = -((0.7f64).ln() + (0.1f64).ln()) / 2.0;
    assert!((v - expected).abs() < 1e-6, "{v} vs {expected}");
    let sparse = Loss::SparseCategoricalCrossentropy
        .evaluate(3, &pred, &[0.0, 2.0], false, 1.0, None)
        .unwrap();
    assert!((sparse - expected).abs() < 1e-6);
}

#[test]
fn binary_crossentropy_and_mse_values() {
    let pred = [0.9, 0.2];
    let target = [1.0, 0.0];
    let bce = Loss::BinaryCrossentropy
        .evaluate(1, &pred, &target, false, 1.0, None)
        .unwrap();
    let expected = -((0.9f64).ln() + (0.8f64).ln()) / 2.0;
    assert!((bce - expected).abs() < 1e-6);
    let mse = Loss::MeanSquaredError
        .evaluate(2, &[1.0, 2.0, 3.0, 5.0], &[0.0, 2.0, 3.0, 3.0], false, 1.0, None)
        .unwrap();
    assert!((mse - (1.0 + 0.0 + 0.0 + 4.0) / 4.0).abs() < 1e-9);
}

fn check_plain(loss: Loss, width: usize, pred: Vec<f32>, target: Vec<f32>) {
    let mut grad = vec![0.0; pred.len()];
    loss.evaluate(width, &pred, &target, false, 1.0, Some(&mut grad))
        .unwrap();
    check_gradient(loss.name(), &pred, &grad, |p| {
        loss.evaluate(width, p, &target, false, 1.0, None).unwrap()
    });
}

fn probabilities(rng: &mut rand::rngs::StdRng, rows: usize, width: usize) -> Vec<f32> {
    // Near-uniform rows keep p away from 0, where -ln p curves too sharply
    // for a finite-difference step of 1e-2 to be accurate.
    let logits: Vec<f32> = random_vec(rng, rows * width).iter().map(|v| 0.3 * v).collect();
    let mut p = vec![0.0; logits.len()];
    activate(Activation::Softmax, &logits, &mut p, width).unwrap();
    p
}

#[test]
fn plain_gradients_match_finite_differences() {
    let mut rng = rng(3);
    let p = probabilities(&mut rng, 3, 4);
    let t = vec![0., 1., 0., 0., 1., 0., 0., 0., 0., 0., 0., 1.];
    check_plain(Loss::CategoricalCrossentropy, 4, p.clone(), t);
    check_plain(Loss::SparseCategoricalCrossentropy, 4, p, vec![1.0, 0.0, 3.0]);
    let q: Vec<f32> = random_vec(&mut rng, 6).iter().map(|v| 0.5 + 0.4 * v).collect();
    check_plain(Loss::BinaryCrossentropy, 3, q, vec![1., 0., 1., 1., 0., 0.]);
    check_plain(
        Loss::MeanSquaredError,
        2,
        random_vec(&mut rng, 6),
        random_vec(&mut rng, 6),
    );
}

/// The fused gradient is the gradient with respect to the logits of
/// `loss(activation(logits))`.
fn check_fused(loss: Loss, act: Activation, width: usize, target: Vec<f32>) {
    let mut rng = rng(8);
    let logits: Vec<f32> = random_vec(&mut rng, 3 * width).iter().map(|v| 3.0 * v).collect();
    let mut p = vec![0.0; logits.len()];
    activate(act, &logits, &mut p, width).unwrap();
    let mut grad = vec![0.0; p.len()];
    loss.evaluate(width, &p, &target, true, 1.0, Some(&mut grad))
        .unwrap();
    let mut q = vec![0.0; p.len()];
    check_gradient("fused", &logits, &grad, |z| {
        activate(act, z, &mut q, width).unwrap();
        loss.evaluate(width, &q, &target, false, 1.0, None).unwrap()
    });
    assert!(loss.fuses_with(Some(act)));
}

#[test]
fn fused_softmax_crossentropy_gradient_is_the_logit_gradient() {
    check_fused(
        Loss::CategoricalCrossentropy,
        Activation::Softmax,
        4,
        vec![0., 0., 1., 0., 1., 0., 0., 0., 0., 0., 0., 1.],
    );
    check_fused(
        Loss::SparseCategoricalCrossentropy,
        Activation::Softmax,
        4,
        vec![2.0, 0.0, 3.0],
    );
}

#[test]
fn fused_sigmoid_binary_crossentropy_gradient_is_the_logit_gradient() {
    check_fused(
        Loss::BinaryCrossentropy,
        Activation::Sigmoid,
        2,
        vec![1., 0., 0., 1., 1., 1.],
    );
}

#[test]
fn fused_gradient_stays_finite_when_a_probability_underflows() {
    // p = 0 exactly for the true class: the plain gradient would divide by
    // a clipped 1e-7; the fused one is simply p - t.
    let mut g = vec![0.0; 2];
    let v = Loss::CategoricalCrossentropy
        .evaluate(2, &[1.0, 0.0], &[0.0, 1.0], true, 1.0, Some(&mut g))
        .unwrap();
    assert_eq!(g, vec![1.0, -1.0]);
    // Reported as Keras 3 does from logits (unclipped); an underflowed p is
    // held at -ln of the smallest positive f32, not at -ln(1e-7).
    assert!(
        (v - -(1.401_298_5e-45f64).ln()).abs() < 1e-3,
        "bounded, finite: {v}"
    );
}

#[test]
fn accuracy_flavours() {
    let pred = [0.1, 0.9, 0.8, 0.2, 0.3, 0.7];
    assert_eq!(
        accuracy(Loss::CategoricalCrossentropy, 2, &pred, &[0., 1., 0., 1., 0., 1.]),
        (2, 3)
    );
    assert_eq!(
        accuracy(Loss::SparseCategoricalCrossentropy, 2, &pred, &[1., 0., 0.]),
        (2, 3)
    );
    assert_eq!(
        accuracy(Loss::BinaryCrossentropy, 1, &pred, &[0., 1., 0., 0., 0., 1.]),
        (5, 6)
    );
}

#[test]
fn sparse_labels_out_of_range_are_errors() {
    let err = Loss::SparseCategoricalCrossentropy
        .evaluate(2, &[0.5, 0.5], &[2.0], false, 1.0, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "sparse_categorical_crossentropy: label 2 is not a class index in 0..2"
    );
}

#[test]
fn empty_partial_and_mismatched_buffers_are_errors() {
    let loss = Loss::MeanSquaredError;
    // No rows: the mean over none was 0/0, returned as Ok(NaN).
    let err = loss.evaluate(3, &[], &[], false, 1.0, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mean_squared_error: 0 predictions are not one or more whole rows of width 3"
    );
    // A partial row was dropped from the mean without a word.
    assert!(loss.evaluate(2, &[0.5; 3], &[0.0; 2], false, 1.0, None).is_err());
    assert!(loss.evaluate(0, &[0.5; 3], &[0.0; 3], false, 1.0, None).is_err());
    // A gradient buffer shorter than the predictions was indexed past its end.
    let mut short = [0.0f32; 1];
    let err = loss
        .evaluate(1, &[0.5, 0.25], &[0.0, 0.0], false, 1.0, Some(&mut short))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "mean_squared_error: the gradient buffer holds 1 values for 2 predictions; give one per prediction"
    );
    for loss in [
        Loss::CategoricalCrossentropy,
        Loss::SparseCategoricalCrossentropy,
        Loss::BinaryCrossentropy,
    ] {
        let target = vec![0.0; loss.target_len(2, 2)];
        let mut short = [0.0f32; 3];
        assert!(loss
            .evaluate(2, &[0.5; 4], &target, false, 1.0, Some(&mut short))
            .is_err());
    }
    // Whole rows and a full buffer still work.
    let mut grad = [0.0f32; 2];
    let value = loss
        .evaluate(1, &[0.5, 0.25], &[0.0, 0.0], false, 1.0, Some(&mut grad))
        .unwrap();
    assert!((value - (0.25 + 0.0625) / 2.0).abs() < 1e-7, "{value}");
}
