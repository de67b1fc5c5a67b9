//! Optimizers against independent step-by-step implementations of Keras's
//! update rules, over several steps with changing gradients.

use nn_runtime::train::optimizer::{Adam, Optimizer, RmsProp, Sgd};

fn grads(step: usize) -> Vec<f32> {
    vec![0.5 - step as f32 * 0.1, -1.0, 2.0 * (step as f32 + 1.0), 1e-3]
}

fn run(opt: &mut dyn Optimizer, steps: usize) -> Vec<f32> {
    let mut w = vec![1.0f32, -2.0, 0.5, 0.0];
    for s in 0..steps {
        opt.step(&mut w, &grads(s));
    }
    w
}

fn close(a: &[f32], b: &[f64]) {
    for (x, y) in a.iter().zip(b) {
        assert!((*x as f64 - y).abs() < 1e-5, "{a:?} vs {b:?}");
    }
}

#[test]
fn adam_matches_keras_rule() {
    let (lr, b1, b2, eps) = (1e-3f64, 0.9f64, 0.999f64, 1e-7f64);
    let mut w = vec![1.0f64, -2.0, 0.5, 0.0];
    let (mut m, mut v) = (vec![0.0f64; 4], vec![0.0f64; 4]);
    for s in 0..5 {
        let t = (s + 1) as i32;
        let g = grads(s);
        for i in 0..4 {
            let gi = g[i] as f64;
            m[i] = b1 * m[i] + (1.0 - b1) * gi;
            v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
            // Keras folds both bias corrections into the step size.
            let lr_t = lr * (1.0 - b2.powi(t)).sqrt() / (1.0 - b1.powi(t));
            w[i] -= lr_t * m[i] / (v[i].sqrt() + eps);
        }
    }
    close(&run(&mut Adam::with_betas(1e-3, 0.9, 0.999), 5), &w);
}

#[test]
fn sgd_plain_momentum_and_nesterov() {
    let lr = 0.1f64;
    let mut plain = vec![1.0f64, -2.0, 0.5, 0.0];
    let mut mom = plain.clone();
    let mut nes = plain.clone();
    let (mut v1, mut v2) = (vec![0.0f64; 4], vec![0.0f64; 4]);
    for s in 0..4 {
        let g = grads(s);
        for i in 0..4 {
            let gi = g[i] as f64;
            plain[i] -= lr * gi;
            v1[i] = 0.9 * v1[i] - lr * gi;
            mom[i] += v1[i];
            v2[i] = 0.9 * v2[i] - lr * gi;
            nes[i] += 0.9 * v2[i] - lr * gi;
        }
    }
    close(&run(&mut Sgd::new(0.1), 4), &plain);
    close(&run(&mut Sgd::with_momentum(0.1, 0.9, false), 4), &mom);
    close(&run(&mut Sgd::with_momentum(0.1, 0.9, true), 4), &nes);
}

#[test]
fn rmsprop_matches_keras_rule() {
    let (lr, rho, eps) = (1e-3f64, 0.9f64, 1e-7f64);
    let mut w = vec![1.0f64, -2.0, 0.5, 0.0];
    let mut a = [0.0f64; 4];
    for s in 0..4 {
        let g = grads(s);
        for i in 0..4 {
            let gi = g[i] as f64;
            a[i] = rho * a[i] + (1.0 - rho) * gi * gi;
            w[i] -= lr * gi / (a[i].sqrt() + eps);
        }
    }
    close(&run(&mut RmsProp::new(1e-3), 4), &w);
}

#[test]
fn adam_decay_lowers_the_learning_rate_over_time() {
    let mut adam = Adam::new(0.01);
    adam.decay = 0.5;
    assert_eq!(adam.learning_rate(), 0.01);
    let mut w = vec![0.0; 4];
    adam.step(&mut w, &grads(0));
    adam.step(&mut w, &grads(1));
    assert!((adam.learning_rate() - 0.01 / 2.0).abs() < 1e-9);
}
