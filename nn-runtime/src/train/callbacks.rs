//! Callbacks run at the end of each epoch: early stopping, checkpoints and a
//! CSV log, as in Keras.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use crate::io::weights;
use crate::model_error::NnError;
use crate::spec::ModelSpec;
use crate::train::history::Logs;

/// What a callback may read and change: the network's weights.
pub struct CallbackContext<'a> {
    pub spec: &'a ModelSpec,
    pub params: &'a mut Vec<f32>,
    pub state: &'a mut Vec<f32>,
    /// Set to stop training after this epoch.
    pub stop: bool,
}

pub trait Callback {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        Ok(())
    }
    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut CallbackContext) -> Result<(), NnError>;
    fn on_train_end(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        Ok(())
    }
}

/// Whether larger is better for a monitored figure (accuracy) or smaller (loss).
fn higher_is_better(monitor: &str) -> bool {
    monitor.contains("acc")
}

fn monitored(logs: &Logs, monitor: &str) -> Result<f64, NnError> {
    logs.get(monitor).ok_or_else(|| {
        let names: Vec<&str> = logs.values.iter().map(|(n, _)| n.as_str()).collect();
        NnError::Other(format!(
            "callback monitors `{monitor}`, which this training does not report; available: {}",
            names.join(", ")
        ))
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

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, ctx: &mut CallbackContext) -> Result<(), NnError> {
        let value = monitored(logs, &self.monitor)?;
        let improved = match self.best {
            None => true,
            Some(best) if higher_is_better(&self.monitor) => value > best + self.min_delta,
            Some(best) => value < best - self.min_delta,
        };
        if improved {
            self.best = Some(value);
            self.wait = 0;
            if self.restore_best_weights {
                self.best_params.clone_from(ctx.params);
                self.best_state.clone_from(ctx.state);
            }
        } else {
            self.wait += 1;
            if self.wait >= self.patience {
                ctx.stop = true;
                self.stopped_epoch = Some(epoch);
            }
        }
        Ok(())
    }

    fn on_train_end(&mut self, ctx: &mut CallbackContext) -> Result<(), NnError> {
        if self.restore_best_weights && self.best_params.len() == ctx.params.len() {
            ctx.params.copy_from_slice(&self.best_params);
            ctx.state.copy_from_slice(&self.best_state);
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
    fn on_epoch_end(&mut self, _epoch: usize, logs: &Logs, ctx: &mut CallbackContext) -> Result<(), NnError> {
        if self.save_best_only {
            let value = monitored(logs, &self.monitor)?;
            let better = match self.best {
                None => true,
                Some(b) if higher_is_better(&self.monitor) => value > b,
                Some(b) => value < b,
            };
            if !better {
                return Ok(());
            }
            self.best = Some(value);
        }
        weights::save(ctx.spec, ctx.params, ctx.state, &self.path)
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
        let file = File::create(&self.path)
            .map_err(|e| NnError::Other(format!("cannot create `{}`: {e}", self.path.display())))?;
        self.file = Some(file);
        self.columns.clear();
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, logs: &Logs, _ctx: &mut CallbackContext) -> Result<(), NnError> {
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
            .map_err(|e| NnError::Other(format!("cannot write `{}`: {e}", self.path.display())))
    }
}
