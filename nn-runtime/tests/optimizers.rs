//! Optimizers against independent step-by-step implementations of Keras's
//! update rules, over several steps with changing gradients.

use nn_runtime::train::optimizer::{Adam, Optimizer, RmsProp, Sgd};
use nn_runtime::train::schedule::LearningRateSchedule;
use nn_runtime::NnError;

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

/// A schedule that turns NaN after two steps.
struct BreaksAfterTwo;

impl LearningRateSchedule for BreaksAfterTwo {
    fn rate(&self, step: u64) -> f32 {
        if step < 2 {
            0.1
        } else {
            f32::NAN
        }
    }
}

#[test]
fn check_names_each_setting_out_of_range_with_its_value() {
    let mut adam = Adam::new(1e-3);
    adam.beta_2 = f64::NAN;
    let mut adam_eps = Adam::new(1e-3);
    adam_eps.epsilon = -1e-7;
    let mut adam_decay = Adam::new(1e-3);
    adam_decay.decay = -0.5;
    let mut rms = RmsProp::new(1e-3);
    rms.rho = 1.0;
    let mut rms_momentum = RmsProp::new(1e-3);
    rms_momentum.momentum = 2.0;
    let cases: Vec<(Box<dyn Optimizer>, &str, &str)> = vec![
        (
            Box::new(Sgd::new(-1.0)),
            "learning_rate",
            "SGD: learning_rate -1 is not a finite number >= 0",
        ),
        (
            Box::new(Sgd::new(f32::NAN)),
            "learning_rate",
            "SGD: learning_rate NaN is not a finite number >= 0",
        ),
        (
            Box::new(Sgd::with_momentum(0.1, 1.5, true)),
            "momentum",
            "SGD: momentum 1.5 is not a number in [0, 1]",
        ),
        (
            Box::new(Adam::new(f32::INFINITY)),
            "learning_rate",
            "Adam: learning_rate inf is not a finite number >= 0",
        ),
        (
            Box::new(Adam::with_betas(1e-3, 0.9, 1.0)),
            "beta_2",
            "Adam: beta_2 1 is not a number in [0, 1)",
        ),
        (
            Box::new(Adam::with_betas(1e-3, -0.1, 0.999)),
            "beta_1",
            "Adam: beta_1 -0.1 is not a number in [0, 1)",
        ),
        (
            Box::new(adam),
            "beta_2",
            "Adam: beta_2 NaN is not a number in [0, 1)",
        ),
        (
            Box::new(adam_eps),
            "epsilon",
            "Adam: epsilon -0.0000001 is not a finite number > 0",
        ),
        (
            Box::new(adam_decay),
            "decay",
            "Adam: decay -0.5 is not a finite number >= 0",
        ),
        (
            Box::new(RmsProp::new(-1e-3)),
            "learning_rate",
            "RMSprop: learning_rate -0.001 is not a finite number >= 0",
        ),
        (Box::new(rms), "rho", "RMSprop: rho 1 is not a number in [0, 1)"),
        (
            Box::new(rms_momentum),
            "momentum",
            "RMSprop: momentum 2 is not a number in [0, 1]",
        ),
    ];
    for (optimizer, setting, message) in cases {
        let err = optimizer.check().unwrap_err();
        assert!(
            matches!(&err, NnError::Hyperparameter { name, .. } if *name == setting),
            "{err:?}"
        );
        assert_eq!(err.to_string(), message);
    }
    // Keras's defaults, and the edges of each range, are accepted.
    Adam::new(0.0).check().unwrap();
    Adam::with_betas(1e-3, 0.0, 0.0).check().unwrap();
    Sgd::with_momentum(0.1, 1.0, true).check().unwrap();
    RmsProp::new(1e-3).check().unwrap();
}

#[test]
fn set_learning_rate_refuses_a_bad_rate_and_keeps_the_old_one() {
    let mut adam = Adam::new(1e-3);
    for bad in [f32::NAN, f32::NEG_INFINITY, -1e-3] {
        let err = adam.set_learning_rate(bad).unwrap_err();
        assert!(matches!(err, NnError::Hyperparameter { .. }), "{err:?}");
    }
    assert_eq!(adam.learning_rate(), 1e-3);
}

#[test]
fn a_scheduled_optimizer_checks_its_schedules_rate_and_the_inner_settings() {
    let mut scheduled = Sgd::new(0.0).scheduled(BreaksAfterTwo);
    let mut w = vec![1.0f32];
    for _ in 0..2 {
        scheduled.check().unwrap();
        scheduled.step(&mut w, &[1.0]);
    }
    let err = scheduled.check().unwrap_err();
    assert_eq!(
        err.to_string(),
        "SGD: learning_rate NaN is not a finite number >= 0"
    );
    // The inner optimizer's own rate is replaced by the schedule's, so a
    // NaN there is not an error; its other settings are checked.
    Sgd::new(f32::NAN).scheduled(BreaksAfterTwo).check().unwrap();
    let err = Sgd::with_momentum(0.0, 7.0, false)
        .scheduled(BreaksAfterTwo)
        .check()
        .unwrap_err();
    assert!(err.to_string().contains("momentum 7"), "{err}");
}
