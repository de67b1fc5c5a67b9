//! EarlyStopping and ModelCheckpoint driven epoch by epoch, as `fit` calls
//! them: what counts as an improvement, and which weights are kept.

mod common;

use nn_runtime::train::callbacks::{Callback, CallbackContext, EarlyStopping, ModelCheckpoint};
use nn_runtime::train::history::Logs;
use nn_runtime::train::optimizer::Sgd;

/// Runs `callback` over one epoch per monitored value, with the weights
/// set to `[epoch]` during epoch `epoch`; returns the weights after
/// `on_train_end` and the epoch after which training was asked to stop.
fn drive(callback: &mut dyn Callback, monitor: &str, values: &[f64]) -> (f32, Option<usize>) {
    let mut optimizer = Sgd::new(0.1);
    let (mut params, mut state) = (vec![0.0f32], vec![]);
    let mut ctx = CallbackContext::new(&common::EMPTY_SPEC, &mut params, &mut state, &mut optimizer);
    callback.on_train_begin(&mut ctx).unwrap();
    let mut stopped = None;
    for (epoch, &v) in values.iter().enumerate() {
        ctx.params_mut()[0] = epoch as f32;
        let mut logs = Logs::default();
        logs.set(monitor, v);
        callback.on_epoch_end(epoch, &mut logs, &mut ctx).unwrap();
        if ctx.stop_requested() {
            stopped = Some(epoch);
            break;
        }
    }
    callback.on_train_end(&mut ctx).unwrap();
    (ctx.params()[0], stopped)
}

#[test]
fn early_stopping_never_takes_a_nan_epoch_as_the_best() {
    // A NaN first epoch used to become the best: no later value beat it,
    // training stopped two epochs later and the NaN epoch's weights came back.
    let mut stopping = EarlyStopping::new("val_loss", 2, true);
    let (restored, stopped) = drive(&mut stopping, "val_loss", &[f64::NAN, 1.0, 2.0, 0.5, 3.0, 4.0]);
    assert_eq!(stopped, Some(5));
    assert_eq!(restored, 3.0, "the weights of the best epoch (0.5)");
    // Accuracy is maximised; NaN counts as no improvement there too.
    let mut stopping = EarlyStopping::new("val_accuracy", 1, true);
    let (restored, stopped) = drive(&mut stopping, "val_accuracy", &[0.5, f64::NAN, 0.7, 0.6]);
    assert_eq!((restored, stopped), (0.0, Some(1)));
}

#[test]
fn checkpoint_save_best_only_skips_nan_epochs() {
    let dir = common::TempDir::new("checkpoint");
    let path = dir.join("best.safetensors");
    let mut checkpoint = ModelCheckpoint::new(&path, "val_loss", true);
    let mut optimizer = Sgd::new(0.1);
    let (mut params, mut state) = (vec![], vec![]);
    let mut ctx = CallbackContext::new(&common::EMPTY_SPEC, &mut params, &mut state, &mut optimizer);
    let mut logs = Logs::default();
    logs.set("val_loss", f64::NAN);
    checkpoint.on_epoch_end(0, &mut logs, &mut ctx).unwrap();
    assert!(!path.exists(), "a NaN epoch was saved as the best");
    logs.set("val_loss", 0.5);
    checkpoint.on_epoch_end(1, &mut logs, &mut ctx).unwrap();
    assert!(path.exists());
}
