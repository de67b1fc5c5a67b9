//! Callbacks that steer the learning rate between epochs: Keras's
//! `LearningRateScheduler` and `ReduceLROnPlateau`, and `TerminateOnNaN`,
//! with Keras 3's arguments, defaults and order of checks.

use crate::model_error::NnError;
use crate::train::callbacks::{monitored, Callback, CallbackContext};
use crate::train::history::Logs;

/// Sets the learning rate at the start of every epoch to
/// `schedule(epoch, current_rate)` (epochs counted from 0, as in Keras).
pub struct LearningRateScheduler<F: FnMut(usize, f32) -> f32> {
    schedule: F,
}

impl<F: FnMut(usize, f32) -> f32> LearningRateScheduler<F> {
    pub fn new(schedule: F) -> Self {
        Self { schedule }
    }
}

impl<F: FnMut(usize, f32) -> f32> Callback for LearningRateScheduler<F> {
    fn on_epoch_begin(&mut self, epoch: usize, ctx: &mut CallbackContext) -> Result<(), NnError> {
        let rate = (self.schedule)(epoch, ctx.learning_rate());
        ctx.set_learning_rate(rate)
            .map_err(|e| NnError::Other(format!("LearningRateScheduler at epoch {epoch}: {e}")))
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        logs.set("learning_rate", ctx.learning_rate() as f64);
        Ok(())
    }
}

/// Which way `monitor` should move (Keras's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MonitorMode {
    /// `max` when the monitored name contains `acc`, else `min` (Keras's
    /// rule for this callback, word for word).
    #[default]
    Auto,
    Min,
    Max,
}

/// Multiplies the learning rate by `factor` when `monitor` has not improved
/// by more than `min_delta` for `patience` epochs, then waits `cooldown`
/// epochs before counting again; never goes below `min_lr`. A `monitor`
/// that training does not report is an error naming the figures it does
/// report (Keras only warns), as for EarlyStopping here.
#[derive(Debug, Clone)]
pub struct ReduceLROnPlateau {
    pub monitor: String,
    pub factor: f64,
    pub patience: usize,
    pub mode: MonitorMode,
    pub min_delta: f64,
    pub cooldown: usize,
    pub min_lr: f64,
    best: f64,
    wait: usize,
    cooldown_counter: usize,
}

impl Default for ReduceLROnPlateau {
    /// Keras's defaults: `monitor="val_loss", factor=0.1, patience=10,
    /// mode="auto", min_delta=1e-4, cooldown=0, min_lr=0`.
    fn default() -> Self {
        Self {
            monitor: "val_loss".into(),
            factor: 0.1,
            patience: 10,
            mode: MonitorMode::Auto,
            min_delta: 1e-4,
            cooldown: 0,
            min_lr: 0.0,
            best: f64::INFINITY,
            wait: 0,
            cooldown_counter: 0,
        }
    }
}

impl ReduceLROnPlateau {
    /// Keras's defaults with the given `monitor`, `factor` and `patience`.
    pub fn new(monitor: &str, factor: f64, patience: usize) -> Result<Self, NnError> {
        if !(0.0..1.0).contains(&factor) {
            return Err(NnError::Other(format!(
                "ReduceLROnPlateau does not support a factor >= 1.0 or < 0 (got {factor})"
            )));
        }
        Ok(Self {
            monitor: monitor.into(),
            factor,
            patience,
            ..Self::default()
        })
    }

    fn maximises(&self) -> bool {
        match self.mode {
            MonitorMode::Max => true,
            MonitorMode::Min => false,
            MonitorMode::Auto => self.monitor.contains("acc"),
        }
    }

    fn improves(&self, current: f64) -> bool {
        if self.maximises() {
            current > self.best + self.min_delta
        } else {
            current < self.best - self.min_delta
        }
    }

    fn reset(&mut self) {
        self.best = if self.maximises() {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        self.wait = 0;
        self.cooldown_counter = 0;
    }
}

impl Callback for ReduceLROnPlateau {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        self.reset();
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        logs.set("learning_rate", ctx.learning_rate() as f64);
        let current = monitored(logs, &self.monitor)?;
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.improves(current) {
            self.best = current;
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                // Keras reads the rate into a Python float and multiplies in
                // double precision before storing it as f32.
                let old = ctx.learning_rate() as f64;
                if old > self.min_lr as f32 as f64 {
                    let new = (old * self.factor).max(self.min_lr);
                    ctx.set_learning_rate(new as f32)?;
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(())
    }
}

/// Stops training when the loss becomes NaN or infinite, instead of `fit`
/// returning an error; the update from the bad step is not applied.
#[derive(Debug, Clone, Default)]
pub struct TerminateOnNaN {
    /// The epoch and step (both 0-based) training stopped at, if it did.
    pub stopped_at: Option<(usize, usize)>,
    epoch: usize,
}

impl Callback for TerminateOnNaN {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        self.stopped_at = None;
        Ok(())
    }

    fn on_epoch_begin(&mut self, epoch: usize, _ctx: &mut CallbackContext) -> Result<(), NnError> {
        self.epoch = epoch;
        Ok(())
    }

    fn on_train_batch_end(
        &mut self,
        batch: usize,
        loss: f64,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        if !loss.is_finite() {
            self.stopped_at = Some((self.epoch, batch));
            ctx.stop_training();
        }
        Ok(())
    }

    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        _logs: &mut Logs,
        _ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        Ok(())
    }
}
