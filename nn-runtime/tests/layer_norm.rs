//! LayerNormalization: forward against an f64 reference and Keras 3's own
//! outputs (fixture), every gradient against central finite differences,
//! with and without gamma and beta.

mod common;

use common::*;
use nn_runtime::{LayerNorm, LayerNormGrads};

#[allow(dead_code, clippy::all)]
mod keras {
    include!("fixtures/keras_shape_layers.rs");
}

const ROWS: usize = 6;
const W: usize = 7;

fn reference(x: &[f32], gamma: Option<&[f32]>, beta: Option<&[f32]>, epsilon: f64) -> Vec<f32> {
    let mut y = Vec::new();
    for row in x.chunks(W) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / W as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / W as f64;
        for (i, &v) in row.iter().enumerate() {
            let g = gamma.map_or(1.0, |g| g[i] as f64);
            let b = beta.map_or(0.0, |b| b[i] as f64);
            y.push(((v as f64 - mean) / (var + epsilon).sqrt() * g + b) as f32);
        }
    }
    y
}

#[test]
fn layer_norm_forward_and_gradients_with_and_without_gamma_and_beta() {
    let mut rng = rng(61);
    let layer = LayerNorm::keras(W);
    let x: Vec<f32> = random_vec(&mut rng, ROWS * W)
        .iter()
        .map(|v| v * 3.0 + 0.5)
        .collect();
    let gamma: Vec<f32> = random_vec(&mut rng, W).iter().map(|v| v + 1.2).collect();
    let beta = random_vec(&mut rng, W);
    let r = random_vec(&mut rng, x.len());
    for (center, scale) in [(true, true), (false, true), (true, false), (false, false)] {
        let what = format!("center={center} scale={scale}");
        let g = scale.then_some(gamma.as_slice());
        let b = center.then_some(beta.as_slice());
        let run = |x: &[f32], g: Option<&[f32]>, b: Option<&[f32]>| {
            let mut y = vec![0.0; x.len()];
            layer.forward(ROWS, x, g, b, &mut y).unwrap();
            y
        };
        assert_close(&what, &run(&x, g, b), &reference(&x, g, b, 1e-3), 1e-5);

        let (mut dg, mut db, mut dx) = (vec![0.0; W], vec![0.0; W], vec![0.0; x.len()]);
        let grads = LayerNormGrads {
            dgamma: scale.then_some(dg.as_mut_slice()),
            dbeta: center.then_some(db.as_mut_slice()),
            dx: Some(&mut dx),
        };
        layer.backward(ROWS, &x, g, &r, grads).unwrap();
        check_gradient(&format!("{what} dx"), &x, &dx, |p| dot(&run(p, g, b), &r));
        if scale {
            check_gradient(&format!("{what} dgamma"), &gamma, &dg, |p| {
                dot(&run(&x, Some(p), b), &r)
            });
        }
        if center {
            check_gradient(&format!("{what} dbeta"), &beta, &db, |p| {
                dot(&run(&x, g, Some(p)), &r)
            });
        }
    }
}

#[test]
fn layer_norm_matches_keras() {
    use keras::*;
    let layer = LayerNorm::keras(5);
    let mut y = vec![0.0; 15];
    layer
        .forward(
            3,
            &LAYER_NORM_INPUT,
            Some(&LAYER_NORM_GAMMA),
            Some(&LAYER_NORM_BETA),
            &mut y,
        )
        .unwrap();
    assert_close("keras layer norm", &y, &LAYER_NORM_OUTPUT, 1e-5);
    layer.forward(3, &LAYER_NORM_INPUT, None, None, &mut y).unwrap();
    assert_close(
        "keras layer norm, no gamma/beta",
        &y,
        &LAYER_NORM_BARE_OUTPUT,
        1e-5,
    );
}

#[test]
fn layer_norm_of_a_constant_row_is_beta_and_bad_input_is_an_error() {
    let layer = LayerNorm::keras(3);
    let mut y = [0.0; 3];
    layer
        .forward(1, &[2.0; 3], Some(&[5.0; 3]), Some(&[0.5, -1.0, 0.0]), &mut y)
        .unwrap();
    assert_eq!(y, [0.5, -1.0, 0.0]);
    let err = layer
        .forward(1, &[0.0; 3], Some(&[1.0; 2]), None, &mut y)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "layer_normalization: buffer `gamma` has 2 elements, expected 3"
    );
    let bad = LayerNorm {
        width: 3,
        epsilon: f32::NAN,
    };
    let err = bad.forward(1, &[0.0; 3], None, None, &mut y).unwrap_err();
    assert!(err.to_string().contains("epsilon must be positive"), "{err}");
}
