//! The reported loss on the fused softmax and sigmoid paths is Keras 3's
//! from-logits value, not the one clipped at 1e-7; checked against
//! log-sum-exp of the logits computed here in double precision.

use nn_runtime::activation::forward;
use nn_runtime::train::loss::Loss;
use nn_runtime::Activation;

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

#[test]
fn softmax_cross_entropy_is_reported_from_logits() {
    // Row 0: the true class (0) gets p = 1 / (1 + e^31) = 3.4e-14.
    // Row 1: logits [2, 0], true class 0.
    let logits = [0.0f32, 31.0, 2.0, 0.0];
    let mut p = [0.0f32; 4];
    forward(Activation::Softmax, &logits, &mut p, 2).unwrap();
    assert!(p[0] > 0.0 && p[0] < 1e-13);
    let from_logits = (softplus(31.0) + softplus(-2.0)) / 2.0; // lse(z) - z_true
    let clipped = (-(1e-7f32 as f64).ln() + softplus(-2.0)) / 2.0;
    for loss in [Loss::SparseCategoricalCrossentropy, Loss::CategoricalCrossentropy] {
        let target: &[f32] = if loss == Loss::SparseCategoricalCrossentropy {
            &[0.0, 0.0]
        } else {
            &[1.0, 0.0, 1.0, 0.0]
        };
        let fused = loss.evaluate(2, &p, target, true, 1.0, None).unwrap();
        assert!(
            (fused - from_logits).abs() < 1e-5 * from_logits,
            "{fused} vs {from_logits}"
        );
        // Hand-worked: (31.0 + 0.126928) / 2.
        assert!((fused - 15.563_464).abs() < 1e-4, "{fused}");
        // The unfused path keeps Keras's clipping of probabilities.
        let plain = loss.evaluate(2, &p, target, false, 1.0, None).unwrap();
        assert!((plain - clipped).abs() < 1e-6, "{plain} vs {clipped}");
    }
}

#[test]
fn sigmoid_binary_cross_entropy_is_reported_from_logits() {
    // z = -30 with target 1: loss softplus(30) = 30; z = 3 with target 0:
    // softplus(3); z = 10 with target 0: softplus(10), where 1 - p is only
    // known to f32 spacing near 1 (6e-8 on 4.5e-5), hence the looser bound.
    let logits = [-30.0f32, 3.0, 10.0];
    let mut p = [0.0f32; 3];
    forward(Activation::Sigmoid, &logits, &mut p, 1).unwrap();
    let target = [1.0f32, 0.0, 0.0];
    let expected = (softplus(30.0) + softplus(3.0) + softplus(10.0)) / 3.0;
    let fused = Loss::BinaryCrossentropy
        .evaluate(1, &p, &target, true, 1.0, None)
        .unwrap();
    assert!(
        (fused - expected).abs() < 2e-3 / 3.0 + 1e-5 * expected,
        "{fused} vs {expected}"
    );
    let plain = Loss::BinaryCrossentropy
        .evaluate(1, &p, &target, false, 1.0, None)
        .unwrap();
    assert!(plain < expected - 4.0, "the clipped value is far lower: {plain}");
}

#[test]
fn an_underflowed_probability_gives_a_finite_bounded_loss() {
    let logits = [0.0f32, 200.0];
    let mut p = [0.0f32; 2];
    forward(Activation::Softmax, &logits, &mut p, 2).unwrap();
    assert_eq!(p[0], 0.0);
    let loss = Loss::SparseCategoricalCrossentropy
        .evaluate(2, &p, &[0.0], true, 1.0, None)
        .unwrap();
    assert!((loss - 103.279).abs() < 1e-2, "{loss}");
}
