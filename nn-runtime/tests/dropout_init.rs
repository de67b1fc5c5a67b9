//! Dropout (seeded mask, inverted scaling, identity at inference) and the
//! initializers' ranges and statistics.

mod common;

use common::*;
use nn_runtime::init::Fill;
use nn_runtime::{Dropout, Initializer};

#[test]
fn dropout_mask_is_seeded_scaled_and_used_by_backward() {
    let spec = Dropout { rate: 0.25 };
    let x = vec![2.0f32; 4000];
    let (mut y, mut mask) = (vec![0.0; 4000], vec![0.0; 4000]);
    spec.forward_train(&x, &mut y, &mut mask, &mut rng(1)).unwrap();
    let kept = mask.iter().filter(|&&m| m != 0.0).count();
    assert!((2800..3200).contains(&kept), "kept {kept} of 4000 at rate 0.25");
    assert!(mask.iter().all(|&m| m == 0.0 || (m - 1.0 / 0.75).abs() < 1e-6));
    let mean = y.iter().sum::<f32>() / 4000.0;
    assert!(
        (mean - 2.0).abs() < 0.1,
        "inverted scaling keeps the mean, got {mean}"
    );

    let (mut y2, mut mask2) = (vec![0.0; 4000], vec![0.0; 4000]);
    spec.forward_train(&x, &mut y2, &mut mask2, &mut rng(1)).unwrap();
    assert_eq!(mask, mask2, "same seed, same mask");

    let dy = vec![1.0; 4000];
    let mut dx = vec![0.0; 4000];
    spec.backward(&mask, &dy, &mut dx).unwrap();
    assert_eq!(dx, mask);

    let mut yi = vec![0.0; 4000];
    spec.forward_infer(&x, &mut yi).unwrap();
    assert_eq!(yi, x);
}

#[test]
fn dropout_rejects_rate_outside_unit_interval() {
    let err = Dropout { rate: 1.0 }
        .forward_infer(&[1.0], &mut [0.0])
        .unwrap_err();
    assert_eq!(err.to_string(), "dropout: rate must be in [0, 1), got 1");
}

#[test]
fn glorot_uniform_respects_its_limit_and_fills_it() {
    let mut v = vec![0.0; 10_000];
    Initializer::GlorotUniform.fill(&mut v, 27, 144, &mut rng(3));
    let limit = (6.0f32 / 171.0).sqrt();
    assert!(v.iter().all(|x| x.abs() <= limit));
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(max > 0.95 * limit, "samples span the interval");
    let var = v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32;
    assert!(
        (var - limit * limit / 3.0).abs() < 0.05 * limit * limit,
        "uniform variance"
    );
}

#[test]
fn he_normal_is_truncated_with_keras_stddev() {
    let mut v = vec![0.0; 20_000];
    Initializer::HeNormal.fill(&mut v, 50, 0, &mut rng(4));
    let std = (2.0f32 / 50.0).sqrt();
    assert!(v.iter().all(|x| x.abs() <= 2.0 * std + 1e-6));
    // A normal truncated at ±2σ has variance ≈ 0.774 σ².
    let var = v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32;
    assert!(
        (var / (std * std) - 0.774).abs() < 0.03,
        "variance ratio {}",
        var / (std * std)
    );
}

#[test]
fn he_uniform_zeros_and_ones() {
    let mut v = vec![5.0; 1000];
    Initializer::HeUniform.fill(&mut v, 24, 0, &mut rng(5));
    assert!(v.iter().all(|x| x.abs() <= 0.5));
    Initializer::Zeros.fill(&mut v, 1, 1, &mut rng(5));
    assert!(v.iter().all(|&x| x == 0.0));
    Initializer::Ones.fill(&mut v, 1, 1, &mut rng(5));
    assert!(v.iter().all(|&x| x == 1.0));
}
