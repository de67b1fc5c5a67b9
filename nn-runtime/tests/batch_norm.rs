//! Batch normalization: training forward against an f64 reference, running
//! statistics against Keras's update rule, gradients of both modes against
//! finite differences; without gamma (`scale=False`) or beta
//! (`center=False`) the layer is the full one with gamma 1 or beta 0.

mod common;

use common::*;
use nn_runtime::{BatchNorm, BatchNormParams, Workspace};

const ROWS: usize = 12;
const C: usize = 3;

#[test]
fn batch_norm_training_forward_and_moving_statistics() {
    let mut rng = rng(8);
    let spec = BatchNorm::keras(C);
    let x: Vec<f32> = random_vec(&mut rng, ROWS * C)
        .iter()
        .map(|v| v * 3.0 + 1.0)
        .collect();
    let gamma = random_vec(&mut rng, C);
    let beta = random_vec(&mut rng, C);
    let (mut mm, mut mv) = (vec![0.5; C], vec![2.0; C]);
    let mut y = vec![0.0; x.len()];
    let mut saved = vec![0.0; 2 * C];
    let params = BatchNormParams {
        gamma: Some(&gamma),
        beta: Some(&beta),
        moving_mean: &mut mm,
        moving_variance: &mut mv,
    };
    spec.forward_train(ROWS, &x, params, &mut y, &mut saved).unwrap();
    for ch in 0..C {
        let col: Vec<f64> = (0..ROWS).map(|r| x[r * C + ch] as f64).collect();
        let mean = col.iter().sum::<f64>() / ROWS as f64;
        let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / ROWS as f64;
        for r in 0..ROWS {
            let expected = gamma[ch] as f64 * (col[r] - mean) / (var + 1e-3).sqrt() + beta[ch] as f64;
            assert!(
                (y[r * C + ch] as f64 - expected).abs() < 1e-5,
                "row {r} channel {ch}"
            );
        }
        assert!((mm[ch] as f64 - (0.99 * 0.5 + 0.01 * mean)).abs() < 1e-6);
        assert!((mv[ch] as f64 - (0.99 * 2.0 + 0.01 * var)).abs() < 1e-5);
    }
}

#[test]
fn batch_norm_training_gradients() {
    let mut rng = rng(9);
    let spec = BatchNorm::keras(C);
    let x = random_vec(&mut rng, ROWS * C);
    let gamma: Vec<f32> = random_vec(&mut rng, C).iter().map(|v| v + 1.5).collect();
    let beta = random_vec(&mut rng, C);
    let r = random_vec(&mut rng, x.len());
    let forward = |x: &[f32], g: &[f32], b: &[f32], y: &mut [f32], saved: &mut [f32]| {
        let (mut mm, mut mv) = (vec![0.0; C], vec![1.0; C]);
        let p = BatchNormParams {
            gamma: Some(g),
            beta: Some(b),
            moving_mean: &mut mm,
            moving_variance: &mut mv,
        };
        spec.forward_train(ROWS, x, p, y, saved).unwrap();
    };
    let mut y = vec![0.0; x.len()];
    let mut saved = vec![0.0; 2 * C];
    forward(&x, &gamma, &beta, &mut y, &mut saved);
    let (mut dg, mut db, mut dx) = (vec![0.0; C], vec![0.0; C], vec![0.0; x.len()]);
    spec.backward_train(
        ROWS,
        &x,
        Some(&gamma),
        &saved,
        &r,
        Some(&mut dg),
        Some(&mut db),
        Some(&mut dx),
        &mut Workspace::new(),
    )
    .unwrap();
    let mut out = vec![0.0; x.len()];
    let mut s = vec![0.0; 2 * C];
    check_gradient("batch norm dx", &x, &dx, |p| {
        forward(p, &gamma, &beta, &mut out, &mut s);
        dot(&out, &r)
    });
    check_gradient("batch norm dgamma", &gamma, &dg, |p| {
        forward(&x, p, &beta, &mut out, &mut s);
        dot(&out, &r)
    });
    check_gradient("batch norm dbeta", &beta, &db, |p| {
        forward(&x, &gamma, p, &mut out, &mut s);
        dot(&out, &r)
    });
}

#[test]
fn batch_norm_inference_uses_moving_statistics_and_its_gradients() {
    let mut rng = rng(10);
    let spec = BatchNorm::keras(C);
    let x = random_vec(&mut rng, ROWS * C);
    let gamma = random_vec(&mut rng, C);
    let beta = random_vec(&mut rng, C);
    let (mut mm, mut mv) = (vec![0.1, -0.2, 0.3], vec![0.5, 1.0, 2.0]);
    let mut y = vec![0.0; x.len()];
    let p = BatchNormParams {
        gamma: Some(&gamma),
        beta: Some(&beta),
        moving_mean: &mut mm,
        moving_variance: &mut mv,
    };
    spec.forward_infer(ROWS, &x, p, &mut y).unwrap();
    for i in 0..x.len() {
        let ch = i % C;
        let expected = gamma[ch] * (x[i] - mm[ch]) / (mv[ch] + 1e-3).sqrt() + beta[ch];
        assert!((y[i] - expected).abs() < 1e-5);
    }
    assert_eq!(mm, vec![0.1, -0.2, 0.3], "inference leaves statistics alone");

    let r = random_vec(&mut rng, x.len());
    let (mut dg, mut db, mut dx) = (vec![0.0; C], vec![0.0; C], vec![0.0; x.len()]);
    let p = BatchNormParams {
        gamma: Some(&gamma),
        beta: Some(&beta),
        moving_mean: &mut mm,
        moving_variance: &mut mv,
    };
    spec.backward_infer(ROWS, &x, p, &r, Some(&mut dg), Some(&mut db), Some(&mut dx))
        .unwrap();
    let mut out = vec![0.0; x.len()];
    let (mut mm2, mut mv2) = (mm.clone(), mv.clone());
    let mut loss = |x: &[f32], g: &[f32]| {
        let p = BatchNormParams {
            gamma: Some(g),
            beta: Some(&beta),
            moving_mean: &mut mm2,
            moving_variance: &mut mv2,
        };
        spec.forward_infer(ROWS, x, p, &mut out).unwrap();
        dot(&out, &r)
    };
    check_gradient("batch norm inference dx", &x, &dx, |p| loss(p, &gamma));
    check_gradient("batch norm inference dgamma", &gamma, &dg, |p| loss(&x, p));
    let sum_r: Vec<f32> = (0..C)
        .map(|ch| (0..ROWS).map(|r_| r[r_ * C + ch]).sum())
        .collect();
    assert_close("batch norm inference dbeta", &db, &sum_r, 1e-5);
}

#[test]
fn batch_norm_rejects_wrong_parameter_length() {
    let spec = BatchNorm::keras(C);
    let (mut mm, mut mv) = (vec![0.0; C], vec![1.0; C]);
    let p = BatchNormParams {
        gamma: Some(&[1.0; 2]),
        beta: Some(&[0.0; C]),
        moving_mean: &mut mm,
        moving_variance: &mut mv,
    };
    let err = spec.forward_infer(2, &[0.0; 6], p, &mut [0.0; 6]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "batch_normalization: buffer `gamma` has 2 elements, expected 3"
    );
}

/// For each of Keras's `center`/`scale` choices: forward (training and
/// inference) and every gradient equal those of the full layer with gamma
/// fixed at 1 or beta at 0; the gradients the layer has match finite
/// differences.
#[test]
fn batch_norm_without_gamma_or_beta_is_the_full_layer_with_them_fixed() {
    let mut rng = rng(11);
    let spec = BatchNorm::keras(C);
    let x = random_vec(&mut rng, ROWS * C);
    let r = random_vec(&mut rng, x.len());
    let gamma: Vec<f32> = random_vec(&mut rng, C).iter().map(|v| v + 1.5).collect();
    let beta = random_vec(&mut rng, C);
    let (ones, zeros) = (vec![1.0; C], vec![0.0; C]);
    for (center, scale) in [(false, true), (true, false), (false, false)] {
        let g = scale.then_some(gamma.as_slice());
        let b = center.then_some(beta.as_slice());
        let g_full = g.unwrap_or(&ones);
        let b_full = b.unwrap_or(&zeros);
        let run = |x: &[f32], g: Option<&[f32]>, b: Option<&[f32]>, train: bool| {
            let (mut mm, mut mv) = (vec![0.2; C], vec![1.5; C]);
            let p = BatchNormParams {
                gamma: g,
                beta: b,
                moving_mean: &mut mm,
                moving_variance: &mut mv,
            };
            let (mut y, mut saved) = (vec![0.0; x.len()], vec![0.0; 2 * C]);
            if train {
                spec.forward_train(ROWS, x, p, &mut y, &mut saved).unwrap();
            } else {
                spec.forward_infer(ROWS, x, p, &mut y).unwrap();
            }
            (y, saved, mm, mv)
        };
        let what = format!("center={center} scale={scale}");
        for train in [true, false] {
            let (y, _, mm, mv) = run(&x, g, b, train);
            let (y_full, _, mm_full, mv_full) = run(&x, Some(g_full), Some(b_full), train);
            assert_close(&what, &y, &y_full, 0.0);
            assert_eq!((mm, mv), (mm_full, mv_full), "{what}: moving statistics");
        }

        let (_, saved, _, _) = run(&x, g, b, true);
        let mut dg = vec![0.0; C];
        let mut db = vec![0.0; C];
        let mut dx = vec![0.0; x.len()];
        spec.backward_train(
            ROWS,
            &x,
            g,
            &saved,
            &r,
            scale.then_some(dg.as_mut_slice()),
            center.then_some(db.as_mut_slice()),
            Some(&mut dx),
            &mut Workspace::new(),
        )
        .unwrap();
        check_gradient(&format!("{what} dx"), &x, &dx, |p| dot(&run(p, g, b, true).0, &r));
        if scale {
            check_gradient(&format!("{what} dgamma"), &gamma, &dg, |p| {
                dot(&run(&x, Some(p), b, true).0, &r)
            });
        } else {
            assert_eq!(dg, zeros, "{what}: no gamma, no gradient written");
        }
        if center {
            check_gradient(&format!("{what} dbeta"), &beta, &db, |p| {
                dot(&run(&x, g, Some(p), true).0, &r)
            });
        } else {
            assert_eq!(db, zeros, "{what}: no beta, no gradient written");
        }

        // Inference-mode backward, through the frozen statistics.
        let (mut mm, mut mv) = (vec![0.2; C], vec![1.5; C]);
        let p = BatchNormParams {
            gamma: g,
            beta: b,
            moving_mean: &mut mm,
            moving_variance: &mut mv,
        };
        let mut dx = vec![0.0; x.len()];
        let mut dg = vec![0.0; C];
        spec.backward_infer(
            ROWS,
            &x,
            p,
            &r,
            scale.then_some(dg.as_mut_slice()),
            None,
            Some(&mut dx),
        )
        .unwrap();
        check_gradient(&format!("{what} inference dx"), &x, &dx, |p| {
            dot(&run(p, g, b, false).0, &r)
        });
        if scale {
            check_gradient(&format!("{what} inference dgamma"), &gamma, &dg, |p| {
                dot(&run(&x, Some(p), b, false).0, &r)
            });
        }
    }
}

/// Outputs of every pass on one tensor: training forward (y, saved,
/// moving statistics), training backward (dgamma, dbeta, dx) and inference
/// forward.
fn all_passes(rows: usize, c: usize, x: &[f32], gamma: &[f32], beta: &[f32], dy: &[f32]) -> Vec<Vec<f32>> {
    let spec = BatchNorm::keras(c);
    let (mut mm, mut mv) = (vec![0.25; c], vec![1.5; c]);
    let (mut y, mut saved) = (vec![f32::NAN; x.len()], vec![f32::NAN; 2 * c]);
    let p = BatchNormParams {
        gamma: Some(gamma),
        beta: Some(beta),
        moving_mean: &mut mm,
        moving_variance: &mut mv,
    };
    spec.forward_train(rows, x, p, &mut y, &mut saved).unwrap();
    let (mut dg, mut db, mut dx) = (vec![0.5; c], vec![0.5; c], vec![0.5; x.len()]);
    let mut ws = Workspace::new();
    spec.backward_train(
        rows,
        x,
        Some(gamma),
        &saved,
        dy,
        Some(&mut dg),
        Some(&mut db),
        Some(&mut dx),
        &mut ws,
    )
    .unwrap();
    let mut inferred = vec![f32::NAN; x.len()];
    let p = BatchNormParams {
        gamma: Some(gamma),
        beta: Some(beta),
        moving_mean: &mut mm,
        moving_variance: &mut mv,
    };
    spec.forward_infer(rows, x, p, &mut inferred).unwrap();
    vec![y, saved, mm, mv, dg, db, dx, inferred]
}

/// A tensor large enough to be split over threads (by rows and by groups of
/// channels, 70 channels making a partial group): two threads give exactly
/// the one-thread results, and those match an f64 reference.
#[test]
fn batch_norm_on_a_large_tensor_is_the_same_on_one_and_two_threads_and_matches_f64() {
    let (rows, c) = (2500, 70);
    let mut rng = rng(11);
    let x: Vec<f32> = random_vec(&mut rng, rows * c)
        .iter()
        .map(|v| v * 2.0 + 0.5)
        .collect();
    let gamma: Vec<f32> = random_vec(&mut rng, c).iter().map(|v| v + 1.0).collect();
    let beta = random_vec(&mut rng, c);
    let dy = random_vec(&mut rng, rows * c);
    nn_runtime::threads::set(1);
    let one = all_passes(rows, c, &x, &gamma, &beta, &dy);
    nn_runtime::threads::set(2);
    let two = all_passes(rows, c, &x, &gamma, &beta, &dy);
    nn_runtime::threads::set(1);
    assert_eq!(one, two, "two threads differ from one");

    let [y, _, mm, mv, dg, db, dx, inferred] = &one[..] else {
        unreachable!()
    };
    for ch in 0..c {
        let col = |v: &[f32]| -> Vec<f64> { (0..rows).map(|r| v[r * c + ch] as f64).collect() };
        let (xs, gs) = (col(&x), col(&dy));
        let mean = xs.iter().sum::<f64>() / rows as f64;
        let var = xs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / rows as f64;
        let inv_std = 1.0 / (var + 1e-3).sqrt();
        let xhat: Vec<f64> = xs.iter().map(|v| (v - mean) * inv_std).collect();
        let sum_g: f64 = gs.iter().sum();
        let sum_gx: f64 = gs.iter().zip(&xhat).map(|(g, h)| g * h).sum();
        let (moving_mean, moving_var) = (0.99 * 0.25 + 0.01 * mean, 0.99 * 1.5 + 0.01 * var);
        assert!((mm[ch] as f64 - moving_mean).abs() < 1e-6, "moving mean {ch}");
        assert!((mv[ch] as f64 - moving_var).abs() < 1e-5, "moving variance {ch}");
        assert!((db[ch] as f64 - (0.5 + sum_g)).abs() < 1e-3, "dbeta {ch}");
        assert!((dg[ch] as f64 - (0.5 + sum_gx)).abs() < 1e-3, "dgamma {ch}");
        let g = gamma[ch] as f64;
        for r in 0..rows {
            let i = r * c + ch;
            let expected_y = g * xhat[r] + beta[ch] as f64;
            assert!((y[i] as f64 - expected_y).abs() < 1e-5, "y row {r} channel {ch}");
            let centred = gs[r] - (sum_g + xhat[r] * sum_gx) / rows as f64;
            let expected_dx = 0.5 + g * inv_std * centred;
            assert!(
                (dx[i] as f64 - expected_dx).abs() < 1e-5,
                "dx row {r} channel {ch}"
            );
            let scale = g / (moving_var + 1e-3).sqrt();
            let expected_inferred = (xs[r] - moving_mean) * scale + beta[ch] as f64;
            assert!(
                (inferred[i] as f64 - expected_inferred).abs() < 1e-5,
                "inference row {r} channel {ch}"
            );
        }
    }
}
