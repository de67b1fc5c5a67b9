//! `Trainer::fit_distributed` and `Trainer::evaluate_distributed`: the
//! single-process loop's pieces (gather, forward, score, backward, optimizer
//! step) with an all-reduce between backward and step.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use super::shard::{fingerprint, largest_shard, shard};
use super::Replicas;
use crate::model::{Mode, Model};
use crate::model_error::NnError;
use crate::train::callbacks::{Callback, CallbackContext};
use crate::train::dataset::Dataset;
use crate::train::history::{History, Logs};
use crate::train::optimizer::Optimizer;
use crate::train::progress::{Progress, Verbosity};
use crate::train::trainer::{all_finite, Buffers, FitConfig, Tally, Trainer};

/// What every rank must agree on before training, in the order sent.
const AGREED: [&str; 10] = [
    "training samples",
    "training data fingerprint",
    "validation samples",
    "validation data fingerprint",
    "parameter count",
    "state count",
    "batch_size",
    "epochs",
    "seed",
    "shuffle",
];

/// Callback status that rank 0 broadcasts: bit flags.
const STATUS_STOP: u64 = 1;
const STATUS_ERROR: u64 = 2;

impl<O: Optimizer> Trainer<O> {
    /// [`Trainer::fit`] on every rank of a data-parallel job; call it on every
    /// rank with the same data, network and settings.
    ///
    /// `config.batch_size` is the global batch: each step, rank `r` of `p`
    /// takes its contiguous part of the global batch (rank 0 the first
    /// `batch_size / p` samples), and the replicas average their gradients
    /// with one all-reduce before the optimizer step, so the weights follow a
    /// single process's training at that batch size. Rank 0's initial
    /// weights and state are broadcast first.
    ///
    /// Only rank 0 prints progress (the running figures on its bar are its
    /// own shard's; the epoch line is over every rank) and runs `callbacks`
    /// (checkpoints, CSV logs, early stopping, learning-rate schedules) at
    /// the start and end of training and of each epoch; their stop request,
    /// errors and any change they make to the weights or the learning rate
    /// reach every rank. Other ranks ignore the callbacks they are given.
    /// The per-batch hook `on_train_batch_end` is not called (it would cost a
    /// broadcast per step), so `TerminateOnNaN` does not act: a NaN loss is
    /// an error on every rank. `class_weight` is refused (per-sample weights
    /// in the dataset work). Validation runs on every rank,
    /// each on its part of the validation data, and the figures are summed
    /// across ranks.
    ///
    /// Before training, the ranks check that they hold the same data
    /// (sample counts and a fingerprint of every value), the same network
    /// size and the same settings, and return an error naming the
    /// difference otherwise. Dropout masks are drawn per rank.
    pub fn fit_distributed<M: Model>(
        &mut self,
        model: &mut M,
        train: &Dataset,
        validation: Option<&Dataset>,
        config: &FitConfig,
        callbacks: &mut [&mut dyn Callback],
        replicas: &Replicas,
    ) -> Result<History, NnError> {
        let spec = M::SPEC;
        let split = match (validation, config.validation_split) {
            (None, Some(fraction)) => Some(train.split_validation(fraction)),
            _ => None,
        };
        let prepared = match &split {
            Some(Err(e)) => Err(e.clone()),
            Some(Ok((t, v))) => self.check_fit::<M>(model, t, Some(v), config),
            None => self.check_fit::<M>(model, train, validation, config),
        };
        let (train, validation) = agree(replicas, prepared, model, config)?;
        replicas.broadcast(&mut model.core_mut().params)?;
        replicas.broadcast(&mut model.core_mut().state)?;

        let (rank, size) = (replicas.rank(), replicas.size());
        let batch = config.batch_size.min(train.len());
        let mut buffers = self.buffers::<M>(train, largest_shard(batch, size).max(1));
        let mut averaged = vec![0.0f32; model.params().len()];
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng = StdRng::seed_from_u64(config.seed);
        // Rank 0 draws a single process's masks; the others their own.
        model.seed_dropout(
            config.seed ^ 0x9e37_79b9_7f4a_7c15 ^ (rank as u64).wrapping_mul(0xd1b5_4a32_d192_ed03),
        );
        let verbosity = if replicas.is_root() {
            config.verbosity
        } else {
            Verbosity::Quiet
        };
        let mut progress = Progress::new(verbosity);
        let mut history = History::default();
        let steps = train.len().div_ceil(batch);

        // As in `fit`: a stop in `on_train_begin` means no epoch.
        let stopped = run_callbacks(model, &mut self.optimizer, callbacks, replicas, |cb, ctx| {
            cb.on_train_begin(ctx)
        })?;
        let epochs = if stopped { 0 } else { config.epochs };
        for epoch in 0..epochs {
            if config.shuffle {
                order.shuffle(&mut rng);
            }
            // A schedule sets the rate here on rank 0; every rank takes it.
            if run_callbacks(model, &mut self.optimizer, callbacks, replicas, |cb, ctx| {
                cb.on_epoch_begin(epoch, ctx)
            })? {
                break;
            }
            progress.epoch_start(epoch, config.epochs, steps);
            let mut tally = self.tally::<M>();
            for (step, global) in order.chunks(batch).enumerate() {
                let local = &global[shard(global.len(), rank, size)];
                let at = Position { epoch, step };
                let computed =
                    self.local_gradient(model, train, local, global.len(), &mut buffers, &mut tally, at);
                if computed.is_err() {
                    // Still take part in the all-reduce, so no rank waits.
                    model.core_mut().grads.fill(f32::NAN);
                }
                replicas.sum_into(&model.core().grads, &mut averaged)?;
                computed?;
                if !all_finite(&averaged) {
                    return Err(NnError::Other(format!(
                        "{}: the averaged gradient is not finite at epoch {}, step {} of {steps} (rank {rank} \
                         of {size}); another rank failed in this step (see its error) or the gradient overflowed",
                        spec.name,
                        epoch + 1,
                        step + 1
                    )));
                }
                self.optimizer.check()?;
                self.optimizer.step(&mut model.core_mut().params, &averaged);
                if !all_finite(model.params()) {
                    return Err(NnError::NonFinite {
                        network: spec.name,
                        what: "parameters",
                        epoch: epoch + 1,
                        step: step + 1,
                    });
                }
                progress.step(step + 1, || tally.logs(&spec, ""));
            }
            let tally = sum_tallies(replicas, Ok(tally), &self.tally::<M>(), spec.name)?;
            average_state(model, replicas)?;
            let mut logs = tally.logs(&spec, "");
            if let Some(v) = validation {
                let val = self.evaluate_tally_distributed(model, v, config.batch_size, replicas)?;
                for (name, value) in val.logs(&spec, "val_").values {
                    logs.set(&name, value);
                }
            }
            logs.set("learning_rate", self.optimizer.learning_rate() as f64);
            progress.epoch_end(&logs);
            let stop = run_callbacks(model, &mut self.optimizer, callbacks, replicas, |cb, ctx| {
                cb.on_epoch_end(epoch, &mut logs, ctx)
            })?;
            history.epochs.push(logs);
            if stop {
                break;
            }
        }
        run_callbacks(model, &mut self.optimizer, callbacks, replicas, |cb, ctx| {
            cb.on_train_end(ctx)
        })?;
        Ok(history)
    }

    /// [`Trainer::evaluate`] on every rank of a data-parallel job: each rank
    /// evaluates its contiguous part of `data` and the figures are summed, so
    /// every rank returns the figures of the whole set. `batch_size` is per
    /// rank.
    pub fn evaluate_distributed<M: Model>(
        &self,
        model: &mut M,
        data: &Dataset,
        batch_size: usize,
        replicas: &Replicas,
    ) -> Result<Logs, NnError> {
        Ok(self
            .evaluate_tally_distributed(model, data, batch_size, replicas)?
            .logs(&M::SPEC, ""))
    }

    /// The single-process checks of `fit`'s arguments.
    fn check_fit<'a, M: Model>(
        &self,
        model: &M,
        train: &'a Dataset,
        validation: Option<&'a Dataset>,
        config: &FitConfig,
    ) -> Result<(&'a Dataset, Option<&'a Dataset>), NnError> {
        let name = M::SPEC.name;
        if config.batch_size == 0 {
            return Err(NnError::invalid_argument(name, "batch_size must be at least 1"));
        }
        if config.epochs == 0 {
            return Err(NnError::invalid_argument(name, "epochs must be at least 1"));
        }
        if config.class_weight.is_some() {
            return Err(NnError::invalid_argument(
                name,
                "fit_distributed does not take class_weight yet; give the dataset per-sample weights with \
                 `Dataset::with_sample_weight(class_weight::sample_weights(..))` instead",
            ));
        }
        if config.class_weight.is_some() || config.augmentation.is_some() {
            return Err(NnError::Other(format!(
                "{name}: class_weight and augmentation are not supported in distributed training yet"
            )));
        }
        if model.params().len() != model.core().grads.len() {
            return Err(NnError::Other(format!(
                "{name}: {} parameters but {} gradients",
                model.params().len(),
                model.core().grads.len()
            )));
        }
        self.check::<M>(train, "training data")?;
        if let Some(v) = validation {
            self.check::<M>(v, "validation data")?;
        }
        Ok((train, validation))
    }

    /// Forward, loss and backward on this rank's `local` samples of a global
    /// batch of `global_len`, leaving `local_len / global_len` times the
    /// local mean-loss gradient in the model's gradient buffer (zero when the
    /// rank has no sample in this batch).
    #[allow(clippy::too_many_arguments)]
    fn local_gradient<M: Model>(
        &self,
        model: &mut M,
        train: &Dataset,
        local: &[usize],
        global_len: usize,
        buffers: &mut Buffers,
        tally: &mut Tally,
        at: Position,
    ) -> Result<(), NnError> {
        let n = local.len();
        if n == 0 {
            model.core_mut().grads.fill(0.0);
            return Ok(());
        }
        Self::gather(train, train.sample_weight(), local, buffers);
        buffers.forward(model, n, Mode::Train)?;
        let loss = self.score(model, n, buffers, true, tally)?;
        if !loss.is_finite() {
            return Err(NnError::NonFinite {
                network: M::SPEC.name,
                what: "loss",
                epoch: at.epoch + 1,
                step: at.step + 1,
            });
        }
        self.backward(model, n, &buffers.grads)?;
        if n != global_len {
            let share = n as f32 / global_len as f32;
            model.core_mut().grads.iter_mut().for_each(|g| *g *= share);
        }
        Ok(())
    }

    fn evaluate_tally_distributed<M: Model>(
        &self,
        model: &mut M,
        data: &Dataset,
        batch_size: usize,
        replicas: &Replicas,
    ) -> Result<Tally, NnError> {
        let spec = M::SPEC;
        let local = (|| {
            if batch_size == 0 {
                return Err(NnError::invalid_argument(
                    spec.name,
                    "batch_size must be at least 1",
                ));
            }
            self.check::<M>(data, "evaluation data")?;
            let mine: Vec<usize> = shard(data.len(), replicas.rank(), replicas.size()).collect();
            let batch = batch_size.min(mine.len()).max(1);
            let mut buffers = self.buffers::<M>(data, batch);
            let mut tally = self.tally::<M>();
            for chunk in mine.chunks(batch) {
                Self::gather(data, data.sample_weight(), chunk, &mut buffers);
                buffers.forward(model, chunk.len(), Mode::Infer)?;
                self.score(model, chunk.len(), &mut buffers, false, &mut tally)?;
            }
            Ok(tally)
        })();
        sum_tallies(replicas, local, &self.tally::<M>(), spec.name)
    }
}

/// Where a step is, for messages.
#[derive(Clone, Copy)]
struct Position {
    epoch: usize,
    step: usize,
}

/// Exchanges every rank's setup: returns this rank's error if it failed, an
/// error naming the rank if another did, an error naming the difference if
/// the ranks disagree, else the (training, validation) pair.
fn agree<'a, M: Model>(
    replicas: &Replicas,
    prepared: Result<(&'a Dataset, Option<&'a Dataset>), NnError>,
    model: &M,
    config: &FitConfig,
) -> Result<(&'a Dataset, Option<&'a Dataset>), NnError> {
    let name = M::SPEC.name;
    // A rank that failed sends only a 0 in front.
    let mut local = vec![0u64; 1 + AGREED.len()];
    if let Ok((train, validation)) = &prepared {
        local.copy_from_slice(&[
            1,
            train.len() as u64,
            fingerprint(train),
            validation.map_or(0, |v| v.len() as u64),
            validation.map_or(0, fingerprint),
            model.params().len() as u64,
            model.state().len() as u64,
            config.batch_size as u64,
            config.epochs as u64,
            config.seed,
            u64::from(config.shuffle),
        ]);
    }
    let all = replicas.all_gather(&local)?;
    let prepared = prepared?;
    let ranks: Vec<&[u64]> = all.chunks(local.len()).collect();
    if let Some(failed) = ranks.iter().position(|r| r[0] == 0) {
        return Err(NnError::Other(format!(
            "{name}: rank {failed} of {} could not start training (see its error)",
            ranks.len()
        )));
    }
    for (field, what) in AGREED.iter().enumerate() {
        let values: Vec<u64> = ranks.iter().map(|r| r[1 + field]).collect();
        if let Some(other) = values.iter().position(|&v| v != values[0]) {
            let show = |v: u64| {
                if what.contains("fingerprint") {
                    format!("{v:016x}")
                } else {
                    v.to_string()
                }
            };
            return Err(NnError::Other(format!(
                "{name}: the ranks differ in {what}: rank 0 has {}, rank {other} has {}; every rank needs \
                 the same data, network and settings (each takes its part of every global batch)",
                show(values[0]),
                show(values[other])
            )));
        }
    }
    Ok(prepared)
}

/// Adds every rank's tally (or notes that a rank failed) in one all-reduce.
fn sum_tallies(
    replicas: &Replicas,
    local: Result<Tally, NnError>,
    template: &Tally,
    name: &str,
) -> Result<Tally, NnError> {
    let mut sums = match &local {
        Ok(tally) => [vec![0.0], tally.to_sums()].concat(),
        Err(_) => [vec![1.0], template.to_sums()].concat(),
    };
    let mine = sums.clone();
    replicas.sum_into(&mine, &mut sums)?;
    local?;
    if sums[0] != 0.0 {
        return Err(NnError::Other(format!(
            "{name}: {} of {} ranks failed while computing the figures (see their errors)",
            sums[0],
            replicas.size()
        )));
    }
    Ok(template.with_sums(&sums[1..]))
}

/// Sets every replica's non-trainable state (batch-norm moving averages) to
/// the mean across replicas.
fn average_state<M: Model>(model: &mut M, replicas: &Replicas) -> Result<(), NnError> {
    let state = &mut model.core_mut().state;
    if state.is_empty() || replicas.size() == 1 {
        return Ok(());
    }
    let mine = state.clone();
    replicas.sum_into(&mine, state)?;
    let inverse = 1.0 / replicas.size() as f32;
    state.iter_mut().for_each(|s| *s *= inverse);
    Ok(())
}

/// Runs `f` over the callbacks on rank 0, then gives every rank its
/// outcome: stop or not, its error, and the weights (which a callback may
/// have changed). Returns whether to stop.
fn run_callbacks<M: Model>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    callbacks: &mut [&mut dyn Callback],
    replicas: &Replicas,
    mut f: impl FnMut(&mut dyn Callback, &mut CallbackContext) -> Result<(), NnError>,
) -> Result<bool, NnError> {
    let mut outcome = Ok(false);
    let mut status = [0u64];
    if replicas.is_root() {
        let core = model.core_mut();
        let mut ctx = CallbackContext::new(&M::SPEC, &mut core.params, &mut core.state, optimizer);
        outcome = callbacks
            .iter_mut()
            .try_for_each(|cb| f(&mut **cb, &mut ctx))
            .map(|()| ctx.stop_requested());
        status[0] = match outcome {
            Ok(true) => STATUS_STOP,
            Ok(false) => 0,
            Err(_) => STATUS_ERROR,
        };
    }
    replicas.broadcast(&mut status)?;
    if status[0] & STATUS_ERROR != 0 {
        outcome?;
        return Err(NnError::Other(format!(
            "{}: a callback failed on rank 0 (see its error)",
            M::SPEC.name
        )));
    }
    replicas.broadcast(&mut model.core_mut().params)?;
    replicas.broadcast(&mut model.core_mut().state)?;
    // A callback on rank 0 may have changed the learning rate: every rank
    // takes rank 0's (schedules give every rank the same rate anyway).
    let mut rate = [optimizer.learning_rate().to_bits() as u64];
    replicas.broadcast(&mut rate)?;
    let rate = f32::from_bits(rate[0] as u32);
    if rate != optimizer.learning_rate() {
        optimizer.set_learning_rate(rate)?;
    }
    Ok(status[0] & STATUS_STOP != 0)
}
