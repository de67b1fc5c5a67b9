//! Subtract, multiply, average, maximum, minimum and abs, square, sqrt:
//! forward against a naive per-element loop, backward against central
//! finite differences, on a tensor long enough to be split over threads.

mod common;

use common::*;
use nn_runtime::elementwise_merge::{self, MergeOp};
use nn_runtime::elementwise_unary::{self, UnaryOp, SQRT_EPSILON};

/// Long enough that `threads::for_ranges` splits it when threads exist.
const LEN: usize = 40_000;

fn naive_merge(op: MergeOp, xs: &[Vec<f32>], i: usize) -> f32 {
    let column: Vec<f32> = xs.iter().map(|x| x[i]).collect();
    match op {
        MergeOp::Subtract => column[0] - column[1],
        MergeOp::Multiply => column.iter().product(),
        MergeOp::Average => column.iter().sum::<f32>() / column.len() as f32,
        MergeOp::Maximum => column.iter().copied().fold(f32::NEG_INFINITY, f32::max),
        MergeOp::Minimum => column.iter().copied().fold(f32::INFINITY, f32::min),
    }
}

fn check_merge(op: MergeOp, inputs: usize, seed: u64) {
    let mut rng = rng(seed);
    let xs: Vec<Vec<f32>> = (0..inputs).map(|_| random_vec(&mut rng, LEN)).collect();
    let refs: Vec<&[f32]> = xs.iter().map(|v| &v[..]).collect();
    let mut y = vec![0.0; LEN];
    elementwise_merge::forward(op, &refs, &mut y).unwrap();
    let expected: Vec<f32> = (0..LEN).map(|i| naive_merge(op, &xs, i)).collect();
    assert_close(&format!("{op:?} forward"), &y, &expected, 1e-6);

    // Small tensors for the finite differences (every element probed), of
    // values at least 0.03 apart: no ties within a probe's step of 0.01, so
    // maximum/minimum are smooth where they are probed.
    let spread: Vec<f32> = distinct_vec(&mut rng, inputs * 60)
        .iter()
        .map(|v| 3.0 * v)
        .collect();
    let small: Vec<Vec<f32>> = spread.chunks(60).map(|c| c.to_vec()).collect();
    let small_refs: Vec<&[f32]> = small.iter().map(|v| &v[..]).collect();
    let r = random_vec(&mut rng, 60);
    for which in 0..inputs {
        let mut dx = vec![0.0; 60];
        elementwise_merge::backward(op, &small_refs, which, &r, &mut dx).unwrap();
        let mut out = vec![0.0; 60];
        check_gradient(&format!("{op:?} dx{which}"), &small[which], &dx, |p| {
            let mut probe = small_refs.clone();
            probe[which] = p;
            elementwise_merge::forward(op, &probe, &mut out).unwrap();
            dot(&out, &r)
        });
    }
}

#[test]
fn subtract_of_two_tensors() {
    check_merge(MergeOp::Subtract, 2, 1);
}

#[test]
fn multiply_of_three_tensors() {
    check_merge(MergeOp::Multiply, 3, 2);
}

#[test]
fn average_of_four_tensors() {
    check_merge(MergeOp::Average, 4, 3);
}

#[test]
fn maximum_of_three_tensors() {
    check_merge(MergeOp::Maximum, 3, 4);
}

#[test]
fn minimum_of_two_tensors() {
    check_merge(MergeOp::Minimum, 2, 5);
}

#[test]
fn multiply_of_a_tensor_with_itself_gets_both_gradients() {
    // multiply(a, a) = a², so the two per-input calls add up to 2a·dy.
    let a = [0.5f32, -2.0, 3.0];
    let dy = [1.0f32, 0.5, -1.0];
    let mut dx = [0.0f32; 3];
    for which in 0..2 {
        elementwise_merge::backward(MergeOp::Multiply, &[&a, &a], which, &dy, &mut dx).unwrap();
    }
    assert_eq!(dx, [1.0, -2.0, -6.0]);
}

#[test]
fn maximum_and_minimum_give_a_tie_to_the_first_input() {
    let (a, b) = ([1.0f32, 2.0], [1.0f32, 3.0]);
    for op in [MergeOp::Maximum, MergeOp::Minimum] {
        let mut da = [0.0f32; 2];
        let mut db = [0.0f32; 2];
        elementwise_merge::backward(op, &[&a, &b], 0, &[1.0, 1.0], &mut da).unwrap();
        elementwise_merge::backward(op, &[&a, &b], 1, &[1.0, 1.0], &mut db).unwrap();
        assert_eq!(da[0] + db[0], 1.0, "{op:?}: the tie's gradient is given once");
        assert_eq!(da[0], 1.0, "{op:?}: to the first input");
    }
}

#[test]
fn maximum_propagates_nan() {
    let mut y = [0.0f32; 2];
    elementwise_merge::forward(MergeOp::Maximum, &[&[1.0, f32::NAN], &[f32::NAN, 0.0]], &mut y).unwrap();
    assert!(y[0].is_nan() && y[1].is_nan(), "{y:?}");
}

#[test]
fn merges_reject_wrong_arity_and_lengths() {
    let err = elementwise_merge::forward(MergeOp::Subtract, &[&[0.0; 2][..]; 3], &mut [0.0; 2]).unwrap_err();
    assert_eq!(err.to_string(), "merge: Subtract needs exactly two inputs, got 3");
    let err = elementwise_merge::forward(MergeOp::Multiply, &[&[0.0; 2]], &mut [0.0; 2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "merge: Multiply needs at least two inputs, got 1"
    );
    let err =
        elementwise_merge::forward(MergeOp::Average, &[&[0.0; 2], &[0.0; 3]], &mut [0.0; 2]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "merge: buffer `input` has 3 elements, expected 2"
    );
    let err = elementwise_merge::backward(
        MergeOp::Average,
        &[&[0.0; 2], &[0.0; 2]],
        2,
        &[0.0; 2],
        &mut [0.0; 2],
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "merge backward: input 2 of 2 inputs");
}

fn check_unary(op: UnaryOp, x: Vec<f32>, naive: fn(f64) -> f64) {
    let mut y = vec![0.0; x.len()];
    elementwise_unary::forward(op, &x, &mut y).unwrap();
    let expected: Vec<f32> = x.iter().map(|&v| naive(v as f64) as f32).collect();
    assert_close(&format!("{op:?} forward"), &y, &expected, 1e-6);

    let mut rng = rng(9);
    let small = &x[..80];
    let r = random_vec(&mut rng, small.len());
    let mut dx = vec![0.0; small.len()];
    elementwise_unary::backward(op, small, &r, &mut dx).unwrap();
    let mut out = vec![0.0; small.len()];
    check_gradient(&format!("{op:?} dx"), small, &dx, |p| {
        elementwise_unary::forward(op, p, &mut out).unwrap();
        dot(&out, &r)
    });
}

/// Values of both signs at least 0.05 from 0 (abs's kink).
fn away_from_zero(seed: u64) -> Vec<f32> {
    let mut rng = rng(seed);
    random_vec(&mut rng, LEN)
        .into_iter()
        .map(|v| if v >= 0.0 { v + 0.05 } else { v - 0.05 })
        .collect()
}

#[test]
fn abs_forward_and_gradient() {
    check_unary(UnaryOp::Abs, away_from_zero(11), f64::abs);
}

#[test]
fn square_forward_and_gradient() {
    check_unary(UnaryOp::Square, away_from_zero(12), |v| v * v);
}

#[test]
fn sqrt_forward_and_gradient() {
    // Positive and at least 0.1: the finite difference step (0.01) stays
    // inside the domain.
    let x = away_from_zero(13).into_iter().map(|v| v.abs() + 0.05).collect();
    check_unary(UnaryOp::Sqrt, x, f64::sqrt);
}

#[test]
fn sqrt_gradient_at_zero_is_finite_and_negative_inputs_are_nan() {
    let x = [0.0f32, -1.0, 4.0];
    let mut y = [0.0f32; 3];
    elementwise_unary::forward(UnaryOp::Sqrt, &x, &mut y).unwrap();
    assert_eq!(y[0], 0.0);
    assert!(y[1].is_nan(), "sqrt(-1) is NaN as in Keras");
    assert_eq!(y[2], 2.0);
    let mut dx = [0.0f32; 3];
    elementwise_unary::backward(UnaryOp::Sqrt, &x, &[1.0; 3], &mut dx).unwrap();
    let at_zero = 0.5 / SQRT_EPSILON.sqrt();
    assert!(
        dx[0].is_finite() && (dx[0] - at_zero).abs() <= 1e-3 * at_zero,
        "{dx:?}"
    );
    assert!(dx[1].is_nan(), "a NaN forward value keeps a NaN gradient: {dx:?}");
    assert_eq!(dx[2], 0.25);
}

#[test]
fn abs_gradient_at_zero_is_zero() {
    let mut dx = [0.0f32; 1];
    elementwise_unary::backward(UnaryOp::Abs, &[0.0], &[1.0], &mut dx).unwrap();
    assert_eq!(dx, [0.0]);
}

#[test]
fn unary_rejects_mismatched_lengths() {
    let err = elementwise_unary::forward(UnaryOp::Square, &[0.0; 3], &mut [0.0; 2]).unwrap_err();
    assert_eq!(err.to_string(), "Square: buffer `y` has 2 elements, expected 3");
    let err = elementwise_unary::backward(UnaryOp::Abs, &[0.0; 3], &[0.0; 3], &mut [0.0; 4]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Absolute: buffer `dx` has 4 elements, expected 3"
    );
}
