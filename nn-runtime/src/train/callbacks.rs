//! Callbacks run at the end of each epoch: early stopping, checkpoints and a
//! CSV log, as in Keras.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use crate::io::weights;
use crate::model_error::NnError;
use crate::spec::ModelSpec;
use crate::train::history::Logs;
use crate::train::optimizer::{checked_rate, Optimizer};

/// What a callback may read and change while training runs: the weights
/// (as slices, whose lengths the generated code relies on, so a callback can
/// change values but never resize them), the optimizer's learning rate, and
/// whether training goes on.
pub struct CallbackContext<'a> {
    spec: &'a ModelSpec,
    params: &'a mut [f32],
    state: &'a mut [f32],
    optimizer: &'a mut dyn Optimizer,
    stop: bool,
}

impl<'a> CallbackContext<'a> {
    /// `fit` builds one for every hook; build one yourself to drive a
    /// callback outside `fit` (tests, custom loops).
    pub fn new(
        spec: &'a ModelSpec,
        params: &'a mut [f32],
        state: &'a mut [f32],
        optimizer: &'a mut dyn Optimizer,
    ) -> Self {
        Self {
            spec,
            params,
            state,
            optimizer,
            stop: false,
        }
    }

    /// The network's description (names, shapes, parameter slots).
    pub fn spec(&self) -> &ModelSpec {
        self.spec
    }

    /// The trainable and non-trainable parameters, flat.
    pub fn params(&self) -> &[f32] {
        self.params
    }

    pub fn params_mut(&mut self) -> &mut [f32] {
        self.params
    }

    /// Running statistics (batch normalisation's moving mean and variance).
    pub fn state(&self) -> &[f32] {
        self.state
    }

    pub fn state_mut(&mut self) -> &mut [f32] {
        self.state
    }

    /// The learning rate of the next update.
    pub fn learning_rate(&self) -> f32 {
        self.optimizer.learning_rate()
    }

    /// Sets the learning rate of the following updates (Keras's
    /// `self.model.optimizer.learning_rate = lr`). Refuses NaN, infinite and
    /// negative rates, and optimizers driven by a schedule.
    pub fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), NnError> {
        let rate = checked_rate(self.optimizer.name(), learning_rate)?;
        self.optimizer.set_learning_rate(rate)
    }

    /// Ends training after the current step or epoch (Keras's
    /// `self.model.stop_training = True`).
    pub fn stop_training(&mut self) {
        self.stop = true;
    }

    /// Whether a callback has asked to stop.
    pub fn stop_requested(&self) -> bool {
        self.stop
    }
}

/// Hooks `fit` calls, as Keras's `keras.callbacks.Callback`.
pub trait Callback {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        Ok(())
    }
    fn on_epoch_begin(&mut self, _epoch: usize, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        Ok(())
    }
    /// After every training step, with the epoch's running mean loss (the
    /// `loss` Keras puts in the batch logs). Called before the update when
    /// the loss is not finite, so a callback can stop training first.
    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        _loss: f64,
        _ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        Ok(())
    }
    /// `logs` may be extended (ReduceLROnPlateau adds `learning_rate`).
    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError>;
    fn on_train_end(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        Ok(())
    }
}

/// Whether larger is better for a monitored figure (accuracy, precision,
/// recall, AUC) or smaller (losses, errors).
pub(crate) fn higher_is_better(monitor: &str) -> bool {
    let name = monitor.strip_prefix("val_").unwrap_or(monitor);
    name.contains("acc") || ["auc", "precision", "recall"].iter().any(|m| name.ends_with(m))
}

/// Whether `value` improves on `best` by more than `min_delta`, as Keras
/// decides: the first best is ±infinity, so a NaN never improves (and never
/// becomes the best, whose weights would be kept or restored).
fn improves(monitor: &str, value: f64, best: Option<f64>, min_delta: f64) -> bool {
    if higher_is_better(monitor) {
        value > best.unwrap_or(f64::NEG_INFINITY) + min_delta
    } else {
        value < best.unwrap_or(f64::INFINITY) - min_delta
    }
}

pub(crate) fn monitored(logs: &Logs, monitor: &str) -> Result<f64, NnError> {
    logs.get(monitor).ok_or_else(|| NnError::NotLogged {
        monitor: monitor.to_string(),
        available: logs.values.iter().map(|(n, _)| n.clone()).collect(),
    })
}

/// Stops when `monitor` has not improved by `min_delta` for `patience`
/// epochs; with `restore_best_weights`, puts the best epoch's weights back
/// when training ends.
pub struct EarlyStopping {
    pub monitor: String,
    pub patience: usize,
    pub min_delta: f64,
    pub restore_best_weights: bool,
    best: Option<f64>,
    wait: usize,
    best_params: Vec<f32>,
    best_state: Vec<f32>,
    /// The epoch (0-based) training stopped after, if it stopped early.
    pub stopped_epoch: Option<usize>,
}

impl EarlyStopping {
    pub fn new(monitor: &str, patience: usize, restore_best_weights: bool) -> Self {
        Self {
            monitor: monitor.to_string(),
            patience,
            min_delta: 0.0,
            restore_best_weights,
            best: None,
            wait: 0,
            best_params: Vec::new(),
            best_state: Vec::new(),
            stopped_epoch: None,
        }
    }
}

impl Callback for EarlyStopping {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        self.best = None;
        self.wait = 0;
        self.stopped_epoch = None;
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        let value = monitored(logs, &self.monitor)?;
        if improves(&self.monitor, value, self.best, self.min_delta) {
            self.best = Some(value);
            self.wait = 0;
            if self.restore_best_weights {
                self.best_params.clear();
                self.best_params.extend_from_slice(ctx.params());
                self.best_state.clear();
                self.best_state.extend_from_slice(ctx.state());
            }
        } else {
            self.wait += 1;
            if self.wait >= self.patience {
                ctx.stop_training();
                self.stopped_epoch = Some(epoch);
            }
        }
        Ok(())
    }

    fn on_train_end(&mut self, ctx: &mut CallbackContext) -> Result<(), NnError> {
        if self.restore_best_weights && self.best_params.len() == ctx.params().len() {
            ctx.params_mut().copy_from_slice(&self.best_params);
            ctx.state_mut().copy_from_slice(&self.best_state);
        }
        Ok(())
    }
}

/// Saves the weights after each epoch, or only when `monitor` improves.
pub struct ModelCheckpoint {
    pub path: PathBuf,
    pub monitor: String,
    pub save_best_only: bool,
    best: Option<f64>,
}

impl ModelCheckpoint {
    pub fn new(path: impl Into<PathBuf>, monitor: &str, save_best_only: bool) -> Self {
        Self {
            path: path.into(),
            monitor: monitor.to_string(),
            save_best_only,
            best: None,
        }
    }
}

impl Callback for ModelCheckpoint {
    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        if self.save_best_only {
            let value = monitored(logs, &self.monitor)?;
            if !improves(&self.monitor, value, self.best, 0.0) {
                return Ok(());
            }
            self.best = Some(value);
        }
        weights::save(ctx.spec(), ctx.params(), ctx.state(), &self.path)
    }
}

/// Writes each epoch's logs as a CSV row (header on the first epoch).
pub struct CsvLogger {
    pub path: PathBuf,
    file: Option<File>,
    columns: Vec<String>,
}

impl CsvLogger {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            file: None,
            columns: Vec::new(),
        }
    }
}

impl Callback for CsvLogger {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        let file = File::create(&self.path).map_err(|e| NnError::io("create", &self.path, e))?;
        self.file = Some(file);
        self.columns.clear();
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        epoch: usize,
        logs: &mut Logs,
        _ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        let mut text = String::new();
        if self.columns.is_empty() {
            self.columns = logs.values.iter().map(|(n, _)| n.clone()).collect();
            text.push_str(&format!("epoch,{}\n", self.columns.join(",")));
        }
        let row: Vec<String> = self
            .columns
            .iter()
            .map(|n| logs.get(n).map_or(String::new(), |v| v.to_string()))
            .collect();
        text.push_str(&format!("{epoch},{}\n", row.join(",")));
        file.write_all(text.as_bytes())
            .and_then(|_| file.flush())
            .map_err(|e| NnError::io("write", &self.path, e))
    }
}
