//! Learning-rate control inside `fit`: the rate is logged as
//! `learning_rate` in History and the CSV log, callbacks can lower it and
//! stop training, a schedule drives it per step, and TerminateOnNaN turns a
//! diverging run into a stop instead of an error.

mod common;

use nn::ndarray::{Array2, Array4};
use nn::prelude::*;

network! {
    struct Tiny {
        input x: [2, 2, 1];
        let h = Dense(4, activation = tanh)(flatten(x));
        output y = Dense(2, activation = softmax)(h);
    }

    struct Regressor {
        input x: [2, 2, 1];
        output y = Dense(2)(flatten(x));
    }
}

fn data(n: usize) -> Dataset {
    let x = Array4::from_shape_fn((n, 2, 2, 1), |(i, r, c, _)| {
        ((i * 7 + r * 3 + c) % 5) as f32 / 5.0 - 0.4
    });
    let y = Array2::from_shape_fn((n, 2), |(i, c)| ((i % 2) == c) as u8 as f32);
    Dataset::new(x, y).unwrap()
}

fn config(epochs: usize, batch_size: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size,
        shuffle: false,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    }
}

#[test]
fn learning_rate_is_in_history_and_the_csv_log_and_a_scheduler_sets_it() {
    let mut net = Tiny::new(&mut common::rng(1));
    let mut trainer = Trainer::new(Sgd::new(0.1), Loss::CategoricalCrossentropy);
    let mut halve = LearningRateScheduler::new(|epoch, lr| if epoch == 0 { lr } else { lr / 2.0 });
    let csv = std::env::temp_dir().join(format!("nn_lr_log_{}.csv", std::process::id()));
    let mut log = CsvLogger::new(&csv);
    let history = trainer
        .fit(
            &mut net,
            &data(8),
            None,
            &config(3, 4),
            &mut [&mut halve, &mut log],
        )
        .unwrap();
    assert_eq!(
        history.series("learning_rate"),
        vec![0.1f32 as f64, 0.05f32 as f64, 0.025f32 as f64]
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    std::fs::remove_file(&csv).ok();
    let header = text.lines().next().unwrap();
    assert_eq!(header, "epoch,loss,learning_rate");
    let last: Vec<&str> = text.lines().nth(3).unwrap().split(',').collect();
    assert_eq!(last[2].parse::<f64>().unwrap(), 0.025f32 as f64);
}

#[test]
fn a_schedule_sets_the_rate_of_every_step_in_fit() {
    // 8 samples in batches of 4: 2 steps an epoch. ExponentialDecay with a
    // staircase every 2 steps halves the rate each epoch; History shows the
    // rate the next step would use (Keras logs the optimizer's current rate).
    let schedule = ExponentialDecay::new(0.2, 2, 0.5, true).unwrap();
    let mut net = Tiny::new(&mut common::rng(1));
    let mut trainer = Trainer::new(Sgd::new(0.0).scheduled(schedule), Loss::CategoricalCrossentropy);
    let history = trainer
        .fit(&mut net, &data(8), None, &config(3, 4), &mut [])
        .unwrap();
    assert_eq!(
        history.series("learning_rate"),
        vec![0.1f32 as f64, 0.05f32 as f64, 0.025f32 as f64]
    );

    // Same updates by hand: plain SGD with the rate set before each step.
    let mut by_hand = Tiny::new(&mut common::rng(1));
    let mut manual = Trainer::new(Sgd::new(0.2), Loss::CategoricalCrossentropy);
    let mut set_each_epoch = LearningRateScheduler::new(|epoch, _| 0.2 * 0.5f32.powi(epoch as i32));
    manual
        .fit(
            &mut by_hand,
            &data(8),
            None,
            &config(3, 4),
            &mut [&mut set_each_epoch],
        )
        .unwrap();
    assert_eq!(net.params(), by_hand.params());
}

#[test]
fn reduce_lr_on_plateau_lowers_the_rate_during_fit() {
    let mut net = Tiny::new(&mut common::rng(2));
    let mut trainer = Trainer::new(Sgd::new(1e-9), Loss::CategoricalCrossentropy);
    let mut reduce = ReduceLROnPlateau::new("loss", 0.5, 1).unwrap();
    let history = trainer
        .fit(&mut net, &data(8), None, &config(3, 8), &mut [&mut reduce])
        .unwrap();
    // A rate of 1e-9 changes the loss by less than min_delta 1e-4: each
    // epoch after the first halves it (logged before the callback acts).
    assert_eq!(
        history.series("learning_rate"),
        vec![1e-9f32 as f64, 1e-9f32 as f64, 5e-10f32 as f64]
    );
    assert_eq!(trainer.optimizer.learning_rate(), 2.5e-10);
}

#[test]
fn terminate_on_nan_stops_at_a_nan_loss_without_an_error_and_keeps_finite_weights() {
    // Sample 6 holds a NaN: with batches of 4 and no shuffling, the loss of
    // epoch 1, step 2 is NaN.
    let mut x = Array4::from_shape_fn((16, 2, 2, 1), |(i, r, c, _)| (i + r + c) as f32 / 10.0);
    x[[6, 1, 0, 0]] = f32::NAN;
    let y = Array2::from_shape_fn((16, 2), |(i, c)| (i + c) as f32 / 8.0);
    let train = Dataset::new(x, y).unwrap();
    // Without the callback, it is an error naming the place.
    let mut net = Regressor::new(&mut common::rng(3));
    let mut trainer = Trainer::new(Sgd::new(0.1), Loss::MeanSquaredError);
    let err = trainer
        .fit(&mut net, &train, None, &config(5, 4), &mut [])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the loss became NaN or infinite at epoch 1, step 2"),
        "{err}"
    );

    let mut net = Regressor::new(&mut common::rng(3));
    let mut trainer = Trainer::new(Sgd::new(0.1), Loss::MeanSquaredError);
    let mut terminate = TerminateOnNaN::default();
    let history = trainer
        .fit(&mut net, &train, None, &config(5, 4), &mut [&mut terminate])
        .unwrap();
    assert_eq!(terminate.stopped_at, Some((0, 1)));
    assert_eq!(
        history.epochs.len(),
        1,
        "the stopped epoch is the last one logged"
    );
    assert!(history.series("loss")[0].is_nan());
    assert!(
        net.params().iter().all(|p| p.is_finite()),
        "the NaN step's update is not applied"
    );
}

/// A callback that reads and writes weights through the slices it is given.
struct ZeroFirstWeight;

impl Callback for ZeroFirstWeight {
    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        _logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        ctx.params_mut()[0] = 0.0;
        if ctx.params().len() != ctx.spec().param_len {
            ctx.stop_training();
        }
        Ok(())
    }
}

#[test]
fn callbacks_change_weight_values_through_fixed_length_views() {
    let mut net = Tiny::new(&mut common::rng(4));
    let mut trainer = Trainer::new(Sgd::new(0.1), Loss::CategoricalCrossentropy);
    let history = trainer
        .fit(
            &mut net,
            &data(8),
            None,
            &config(2, 4),
            &mut [&mut ZeroFirstWeight],
        )
        .unwrap();
    assert_eq!(history.epochs.len(), 2);
    assert_eq!(net.params()[0], 0.0);
}
