//! Learning-rate control: schedules against Keras's formulas written out
//! here, the callbacks that steer the rate driven epoch by epoch with
//! hand-worked expectations, and Adam's update in Keras 3's precision.

mod common;

use nn_runtime::train::callbacks::{Callback, CallbackContext};
use nn_runtime::train::history::Logs;
use nn_runtime::train::learning_rate_callbacks::{
    LearningRateScheduler, MonitorMode, ReduceLROnPlateau, TerminateOnNaN,
};
use nn_runtime::train::optimizer::{Adam, Optimizer, Sgd};
use nn_runtime::train::schedule::{
    CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay,
};

fn close(what: &str, actual: f32, expected: f64) {
    assert!(
        (actual as f64 - expected).abs() <= 1e-6 * expected.abs().max(1e-3),
        "{what}: {actual} vs {expected}"
    );
}

#[test]
fn exponential_decay_continuous_and_staircase() {
    let smooth = ExponentialDecay::new(0.1, 10, 0.5, false).unwrap();
    let stairs = ExponentialDecay::new(0.1, 10, 0.5, true).unwrap();
    for step in [0u64, 1, 5, 9, 10, 15, 25, 1000] {
        close("smooth", smooth.rate(step), 0.1 * 0.5f64.powf(step as f64 / 10.0));
        close("stairs", stairs.rate(step), 0.1 * 0.5f64.powi((step / 10) as i32));
    }
    // Hand-worked: 0.1 * 0.5^0.5 and the staircase's flat first ten steps.
    close("smooth 5", smooth.rate(5), 0.070_710_678);
    close("stairs 9", stairs.rate(9), 0.1);
    close("stairs 25", stairs.rate(25), 0.025);
    assert!(ExponentialDecay::new(0.1, 0, 0.5, false).is_err());
}

#[test]
fn piecewise_constant_boundaries_belong_to_the_piece_before() {
    let s = PiecewiseConstantDecay::new(vec![100, 110], vec![1.0, 0.5, 0.1]).unwrap();
    let cases = [
        (0, 1.0),
        (100, 1.0),
        (101, 0.5),
        (110, 0.5),
        (111, 0.1),
        (10_000, 0.1),
    ];
    for (step, rate) in cases {
        assert_eq!(s.rate(step), rate, "step {step}");
    }
    let err = PiecewiseConstantDecay::new(vec![1, 2], vec![1.0]).unwrap_err();
    assert!(err.to_string().contains("2 boundaries need 3 values"), "{err}");
    assert!(PiecewiseConstantDecay::new(vec![5, 5], vec![1.0, 2.0, 3.0]).is_err());
}

#[test]
fn cosine_decay_with_alpha_and_warmup() {
    let s = CosineDecay::new(0.1, 100).unwrap().with_alpha(0.1);
    for step in [0u64, 10, 50, 99, 100, 250] {
        let fraction = step.min(100) as f64 / 100.0;
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * fraction).cos());
        close("alpha", s.rate(step), 0.1 * (0.9 * cosine + 0.1));
    }
    close("alpha 50", s.rate(50), 0.055);
    close("alpha end", s.rate(100), 0.01);

    // Keras 3: warm up linearly from the initial rate to the target, then
    // decay from the target over decay_steps.
    let w = CosineDecay::new(0.0, 100).unwrap().with_warmup(0.1, 10);
    close("warmup 0", w.rate(0), 0.0);
    close("warmup 5", w.rate(5), 0.05);
    close("warmup 10", w.rate(10), 0.1);
    close("decay 60", w.rate(60), 0.05);
    close("decay end", w.rate(110), 0.0);
    close("after end", w.rate(5000), 0.0);
}

#[test]
fn a_scheduled_optimizer_uses_the_rate_of_each_step_and_refuses_to_be_set() {
    let schedule = PiecewiseConstantDecay::new(vec![0, 1], vec![1.0, 0.5, 0.25]).unwrap();
    let mut opt = Sgd::new(123.0).scheduled(schedule);
    let mut w = vec![0.0f32];
    for _ in 0..4 {
        opt.step(&mut w, &[1.0]);
    }
    // Steps 0, 1, 2, 3 use 1.0, 0.5, 0.25, 0.25 (Keras passes `iterations`).
    assert_eq!(w[0], -(1.0 + 0.5 + 0.25 + 0.25));
    assert_eq!(opt.learning_rate(), 0.25);
    let err = opt.set_learning_rate(0.1).unwrap_err();
    assert!(err.to_string().contains("follows a schedule"), "{err}");
}

#[test]
fn callbacks_cannot_set_nan_or_negative_rates() {
    let mut adam = Adam::new(1e-3);
    let (mut p, mut s) = (vec![], vec![]);
    let mut ctx = CallbackContext::new(&common::EMPTY_SPEC, &mut p, &mut s, &mut adam);
    for bad in [f32::NAN, f32::INFINITY, -1.0] {
        let err = ctx.set_learning_rate(bad).unwrap_err().to_string();
        assert!(err.contains("is not a finite number >= 0"), "{err}");
    }
    ctx.set_learning_rate(0.5).unwrap();
    assert_eq!(ctx.learning_rate(), 0.5);
}

/// Runs `on_epoch_end` of `callback` for each monitored value in turn and
/// returns the learning rate after each epoch.
fn drive(
    callback: &mut dyn Callback,
    optimizer: &mut dyn Optimizer,
    monitor: &str,
    values: &[f64],
) -> Vec<f32> {
    let (mut params, mut state) = (vec![0.0f32; 2], vec![]);
    let mut rates = Vec::new();
    let mut ctx = CallbackContext::new(&common::EMPTY_SPEC, &mut params, &mut state, optimizer);
    callback.on_train_begin(&mut ctx).unwrap();
    for (epoch, &v) in values.iter().enumerate() {
        let mut logs = Logs::default();
        logs.set(monitor, v);
        callback.on_epoch_begin(epoch, &mut ctx).unwrap();
        callback.on_epoch_end(epoch, &mut logs, &mut ctx).unwrap();
        rates.push(ctx.learning_rate());
    }
    rates
}

#[test]
fn reduce_lr_on_plateau_waits_patience_then_cools_down_and_stops_at_min_lr() {
    let mut cb = ReduceLROnPlateau::new("val_loss", 0.5, 2).unwrap();
    cb.cooldown = 1;
    cb.min_lr = 0.3;
    let mut sgd = Sgd::new(1.0);
    // Keras 3 checks the cooldown first, then counts in the same epoch once
    // the cooldown has run out. Epoch by epoch:
    // 0: 1.0 improves on inf (best 1.0)             lr 1.0
    // 1: 0.99995 is not below 1.0 - min_delta 1e-4   wait 1
    // 2: 1.0                                         wait 2 -> lr 0.5, cooldown 1, wait 0
    // 3: cooldown 1 -> 0, wait 0; no improvement     wait 1
    // 4: 1.0                                         wait 2 -> lr max(0.25, min_lr 0.3) = 0.3
    // 5: 0.5 improves (cooldown 1 -> 0)              best 0.5
    // 6..10: 0.6                                     wait grows, but lr 0.3 is not > min_lr
    let values = [1.0, 0.99995, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6];
    let rates = drive(&mut cb, &mut sgd, "val_loss", &values);
    assert_eq!(rates, vec![1.0, 1.0, 0.5, 0.5, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3]);
}

#[test]
fn reduce_lr_on_plateau_defaults_and_modes_follow_keras() {
    let cb = ReduceLROnPlateau::default();
    assert_eq!(
        (
            cb.monitor.as_str(),
            cb.factor,
            cb.patience,
            cb.mode,
            cb.min_delta,
            cb.cooldown,
            cb.min_lr
        ),
        ("val_loss", 0.1, 10, MonitorMode::Auto, 1e-4, 0, 0.0)
    );
    assert!(ReduceLROnPlateau::new("loss", 1.0, 1).is_err());
    // `acc` in the name means larger is better: a falling accuracy reduces.
    let mut acc = ReduceLROnPlateau::new("val_accuracy", 0.1, 1).unwrap();
    let rates = drive(&mut acc, &mut Sgd::new(1.0), "val_accuracy", &[0.5, 0.6, 0.55]);
    assert_eq!(rates, vec![1.0, 1.0, 0.1]);
    // Forced `min` on an accuracy: rising counts as no improvement.
    let mut min = ReduceLROnPlateau::new("val_accuracy", 0.1, 1).unwrap();
    min.mode = MonitorMode::Min;
    let rates = drive(&mut min, &mut Sgd::new(1.0), "val_accuracy", &[0.5, 0.6]);
    assert_eq!(rates, vec![1.0, 0.1]);
    // The factor is a double, as Keras's Python float: 0.1 * 0.1 rounds once.
    let mut twice = ReduceLROnPlateau::new("loss", 0.1, 1).unwrap();
    let rates = drive(&mut twice, &mut Sgd::new(0.1), "loss", &[1.0, 1.0, 1.0]);
    assert_eq!(rates[2], ((0.1f32 as f64 * 0.1) as f32 as f64 * 0.1) as f32);
}

#[test]
fn reduce_lr_on_plateau_names_a_missing_monitor() {
    let mut cb = ReduceLROnPlateau::new("val_loss", 0.5, 1).unwrap();
    let (mut p, mut s) = (vec![], vec![]);
    let mut sgd = Sgd::new(1.0);
    let mut ctx = CallbackContext::new(&common::EMPTY_SPEC, &mut p, &mut s, &mut sgd);
    let mut logs = Logs::default();
    logs.set("loss", 1.0);
    let err = cb.on_epoch_end(0, &mut logs, &mut ctx).unwrap_err().to_string();
    assert!(
        err.contains("`val_loss`") && err.contains("available: loss"),
        "{err}"
    );
}

#[test]
fn learning_rate_scheduler_calls_the_function_with_epoch_and_rate() {
    let mut calls = Vec::new();
    let mut cb = LearningRateScheduler::new(|epoch, lr| {
        calls.push((epoch, lr));
        if epoch < 2 {
            lr
        } else {
            lr * 0.5
        }
    });
    let rates = drive(&mut cb, &mut Sgd::new(0.8), "loss", &[1.0; 4]);
    assert_eq!(rates, vec![0.8, 0.8, 0.4, 0.2]);
    assert_eq!(calls, vec![(0, 0.8), (1, 0.8), (2, 0.8), (3, 0.4)]);

    let mut bad = LearningRateScheduler::new(|_, _| f32::NAN);
    let (mut p, mut s) = (vec![], vec![]);
    let mut sgd = Sgd::new(1.0);
    let mut ctx = CallbackContext::new(&common::EMPTY_SPEC, &mut p, &mut s, &mut sgd);
    let err = bad.on_epoch_begin(3, &mut ctx).unwrap_err().to_string();
    assert!(err.contains("epoch 3") && err.contains("NaN"), "{err}");
}

#[test]
fn terminate_on_nan_stops_on_nan_or_infinite_loss_only() {
    let mut cb = TerminateOnNaN::default();
    let (mut p, mut s) = (vec![], vec![]);
    let mut sgd = Sgd::new(1.0);
    let mut ctx = CallbackContext::new(&common::EMPTY_SPEC, &mut p, &mut s, &mut sgd);
    cb.on_epoch_begin(2, &mut ctx).unwrap();
    cb.on_train_batch_end(0, 1e30, &mut ctx).unwrap();
    assert!(!ctx.stop_requested());
    cb.on_train_batch_end(1, f64::INFINITY, &mut ctx).unwrap();
    assert!(ctx.stop_requested());
    assert_eq!(cb.stopped_at, Some((2, 1)));
}

/// Keras 3's Adam for one variable, as its source computes it: betas are
/// Python floats, `1 - beta` is formed in double precision and applied in
/// f32; the bias-correction powers are f32.
#[test]
fn adam_first_step_equals_keras_hand_computation() {
    let mut adam = Adam::new(1e-3);
    let mut w = vec![0.0f32];
    adam.step(&mut w, &[1.0]);
    // m = 0.1, v = 0.001 (1 - 0.999 in double, then f32), and
    // alpha = 1e-3 * sqrt(1 - 0.999f32) / (1 - 0.9f32).
    let beta_2_power = 0.999f32 as f64;
    let beta_1_power = 0.9f32 as f64;
    let alpha = 1e-3 * (1.0 - beta_2_power).sqrt() / (1.0 - beta_1_power);
    let expected = -(alpha * 0.1 / ((0.001f32 as f64).sqrt() + 1e-7));
    assert!(
        (w[0] as f64 - expected).abs() < 1e-7 * expected.abs(),
        "{} vs {expected}",
        w[0]
    );
    // With 1 - beta_2 formed in f32 (0.00099998713), the step is 6.4e-6
    // relatively larger: this is the difference the test pins.
    let f32_v = (1.0f32 - 0.999f32) as f64;
    let too_large = -(alpha * 0.1 / (f32_v.sqrt() + 1e-7));
    assert!((too_large / expected - 1.0 - 6.4e-6).abs() < 0.1e-6);
    assert!((w[0] as f64 - too_large).abs() > 3e-6 * expected.abs());
}
