//! Keras's `compile` + `fit` / `evaluate` / `predict` for any generated
//! network: losses per output with weights, accuracy, an optimizer,
//! shuffled mini-batches, validation, callbacks and a progress display.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::model::{Mode, Model};
use crate::model_error::NnError;
use crate::report::confusion::ConfusionMatrix;
use crate::train::augment::Augmentation;
use crate::train::callbacks::{Callback, CallbackContext};
use crate::train::class_weight;
use crate::train::dataset::Dataset;
use crate::train::history::{History, Logs};
use crate::train::loss::Loss;
use crate::train::metric::{Metric, MetricState};
use crate::train::optimizer::Optimizer;
use crate::train::progress::{Progress, Verbosity};

/// Inputs or outputs whose slice lists live on the stack (more allocate).
const MAX_STACK_OUTPUTS: usize = 8;

/// Settings of one `fit` call (Keras's `fit` arguments).
#[derive(Debug, Clone)]
pub struct FitConfig {
    pub epochs: usize,
    pub batch_size: usize,
    /// Shuffle the training samples every epoch.
    pub shuffle: bool,
    /// Seed of the shuffling (and of dropout masks).
    pub seed: u64,
    /// Hold out this last fraction of the training data for validation when
    /// no validation set is given.
    pub validation_split: Option<f32>,
    pub verbosity: Verbosity,
    /// Keras's `class_weight`: a loss weight per target class, for
    /// training only and single-output networks; not together with the
    /// training data's sample weights (as in Keras).
    pub class_weight: Option<HashMap<usize, f32>>,
    /// Random transforms of the training images (a network with one image
    /// input `[h, w, c]`), seeded from `seed`; validation and evaluation
    /// never see them. Geometric transforms use a scratch image per batch.
    pub augmentation: Option<Augmentation>,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            epochs: 1,
            batch_size: 32,
            shuffle: true,
            seed: 0,
            validation_split: None,
            verbosity: Verbosity::default(),
            class_weight: None,
            augmentation: None,
        }
    }
}

/// A compiled training setup: an optimizer, one loss per output (with
/// weights), and the metrics to report (Keras's `compile`).
pub struct Trainer<O: Optimizer> {
    pub optimizer: O,
    pub losses: Vec<Loss>,
    pub loss_weights: Vec<f32>,
    /// Metrics of every output without its own list.
    pub metrics: Vec<Metric>,
    /// Metrics of one output, by output name.
    pub output_metrics: Vec<(String, Vec<Metric>)>,
}

/// Per-step buffers, allocated once per `fit` or `evaluate`.
pub(crate) struct Buffers {
    pub(crate) inputs: Vec<Vec<f32>>,
    pub(crate) targets: Vec<Vec<f32>>,
    pub(crate) grads: Vec<Vec<f32>>,
    /// The batch's sample weights, when the data has them.
    pub(crate) weights: Vec<f32>,
    pub(crate) weighted: bool,
}

impl Buffers {
    /// Runs the model on the first `n` samples of the input buffers.
    pub(crate) fn forward<M: Model>(&self, model: &mut M, n: usize, mode: Mode) -> Result<(), NnError> {
        fn slice<'a>(n: usize, (b, t): (&'a Vec<f32>, &crate::spec::TensorSpec)) -> &'a [f32] {
            &b[..n * t.len()]
        }
        // Up to eight inputs without allocating a slice list.
        if self.inputs.len() <= MAX_STACK_OUTPUTS {
            let mut inputs: [&[f32]; MAX_STACK_OUTPUTS] = [&[]; MAX_STACK_OUTPUTS];
            for (slot, pair) in inputs.iter_mut().zip(self.inputs.iter().zip(M::SPEC.inputs)) {
                *slot = slice(n, pair);
            }
            model.forward_slices(n, &inputs[..self.inputs.len()], mode)
        } else {
            let inputs: Vec<&[f32]> = self
                .inputs
                .iter()
                .zip(M::SPEC.inputs)
                .map(|p| slice(n, p))
                .collect();
            model.forward_slices(n, &inputs, mode)
        }
    }
}

impl<O: Optimizer> Trainer<O> {
    /// One loss for a single-output network (or every output).
    pub fn new(optimizer: O, loss: Loss) -> Self {
        Self {
            optimizer,
            losses: vec![loss],
            loss_weights: vec![1.0],
            metrics: Vec::new(),
            output_metrics: Vec::new(),
        }
    }

    /// A loss and weight per output, in the network's output order.
    pub fn with_losses(optimizer: O, losses: Vec<Loss>, loss_weights: Vec<f32>) -> Self {
        Self {
            optimizer,
            losses,
            loss_weights,
            metrics: Vec::new(),
            output_metrics: Vec::new(),
        }
    }

    /// Also report accuracy (Keras's `metrics=['accuracy']`).
    pub fn with_accuracy(mut self) -> Self {
        self.metrics.push(Metric::ACCURACY);
        self
    }

    /// Report these metrics for every output (Keras's
    /// `metrics=['accuracy', 'auc']`); names as Keras accepts them.
    pub fn with_metrics(mut self, names: &[&str]) -> Result<Self, NnError> {
        for name in names {
            self.metrics.push(Metric::named(name)?);
        }
        Ok(self)
    }

    /// Report these metrics for the output `output` instead of the shared
    /// list (Keras's `metrics={'class': ['accuracy'], 'value': ['mae']}`).
    pub fn with_output_metrics(mut self, output: &str, names: &[&str]) -> Result<Self, NnError> {
        let metrics = names
            .iter()
            .map(|n| Metric::named(n))
            .collect::<Result<Vec<_>, _>>()?;
        self.output_metrics.push((output.to_string(), metrics));
        Ok(self)
    }

    fn metrics_for(&self, output: &str) -> &[Metric] {
        self.output_metrics
            .iter()
            .find(|(name, _)| name == output)
            .map_or(&self.metrics[..], |(_, m)| &m[..])
    }

    pub(crate) fn tally<M: Model>(&self) -> Tally {
        let outputs = M::SPEC.outputs;
        Tally {
            total: 0.0,
            samples: 0,
            losses: vec![0.0; outputs.len()],
            metrics: outputs
                .iter()
                .map(|o| self.metrics_for(o.name).iter().map(|m| (*m, m.state())).collect())
                .collect(),
        }
    }

    pub(crate) fn loss_for(&self, output: usize) -> (Loss, f32) {
        let loss = *self
            .losses
            .get(output)
            .or(self.losses.first())
            .unwrap_or(&Loss::MeanSquaredError);
        // One weight for every output, as with one loss.
        let weight = *self
            .loss_weights
            .get(output)
            .or(self.loss_weights.first())
            .unwrap_or(&1.0);
        (loss, weight)
    }

    /// Checks that `data` fits the network: counts and per-sample shapes.
    pub(super) fn check<M: Model>(&self, data: &Dataset, what: &str) -> Result<(), NnError> {
        let spec = M::SPEC;
        if data.is_empty() {
            return Err(NnError::EmptyDataset);
        }
        crate::model::check_count(spec.name, "input arrays", spec.inputs.len(), data.inputs.len())?;
        crate::model::check_count(spec.name, "target arrays", spec.outputs.len(), data.targets.len())?;
        if self.losses.len() != 1 && self.losses.len() != spec.outputs.len() {
            return Err(NnError::Count {
                network: spec.name,
                what: "losses (or a single one for every output)",
                expected: spec.outputs.len(),
                actual: self.losses.len(),
            });
        }
        // A weight list of another length would leave outputs at 1.0 or
        // ignore weights without a word.
        if self.loss_weights.len() > 1 && self.loss_weights.len() != spec.outputs.len() {
            return Err(NnError::Count {
                network: spec.name,
                what: "loss weights (or a single one for every output)",
                expected: spec.outputs.len(),
                actual: self.loss_weights.len(),
            });
        }
        if let Some((i, w)) = self
            .loss_weights
            .iter()
            .enumerate()
            .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
        {
            return Err(NnError::invalid_argument(
                spec.name,
                format!("loss weight {w} (number {i}) is not a finite number >= 0"),
            ));
        }
        for (name, _) in &self.output_metrics {
            if !spec.outputs.iter().any(|o| o.name == name) {
                let known: Vec<&str> = spec.outputs.iter().map(|o| o.name).collect();
                return Err(NnError::Other(format!(
                    "{}: metrics are given for output `{name}`, which the network does not have (outputs: {})",
                    spec.name,
                    known.join(", ")
                )));
            }
        }
        for (i, output) in spec.outputs.iter().enumerate() {
            for metric in self.metrics_for(output.name) {
                metric.check(self.loss_for(i).0, output.name)?;
            }
        }
        data.check_columns(&format!("{}: {what}", spec.name))?;
        for (column, input) in data.inputs.iter().zip(spec.inputs) {
            if column.sample_shape != input.shape {
                return Err(NnError::Shape {
                    network: spec.name,
                    tensor: input.name,
                    expected: input.shape.to_vec(),
                    actual: {
                        let mut s = vec![data.len()];
                        s.extend_from_slice(&column.sample_shape);
                        s
                    },
                });
            }
        }
        for (i, (column, output)) in data.targets.iter().zip(spec.outputs).enumerate() {
            let (loss, _) = self.loss_for(i);
            let width = output.shape.last().copied().unwrap_or(1);
            let expected = target_shape(loss, output.shape);
            if !same_up_to_trailing_ones(&column.sample_shape, &expected) {
                return Err(NnError::TargetShape {
                    network: spec.name,
                    output: output.name,
                    loss: loss.name(),
                    expected,
                    actual: column.sample_shape.clone(),
                });
            }
            if loss == Loss::SparseCategoricalCrossentropy {
                if let Some((i, &bad)) = column
                    .data
                    .iter()
                    .enumerate()
                    .find(|(_, &v)| v < 0.0 || v.fract() != 0.0 || v as usize >= width)
                {
                    return Err(NnError::invalid_argument(
                        spec.name,
                        format!(
                            "{what} label {bad} at sample {} is not a class index in 0..{width}",
                            i / column.sample_len().max(1)
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    pub(super) fn buffers<M: Model>(&self, data: &Dataset, batch: usize) -> Buffers {
        Buffers {
            inputs: data
                .inputs
                .iter()
                .map(|c| vec![0.0; batch * c.sample_len()])
                .collect(),
            targets: data
                .targets
                .iter()
                .map(|c| vec![0.0; batch * c.sample_len()])
                .collect(),
            grads: M::SPEC
                .outputs
                .iter()
                .map(|o| vec![0.0; batch * o.len()])
                .collect(),
            weights: vec![0.0; batch],
            weighted: false,
        }
    }

    pub(crate) fn gather(data: &Dataset, weights: Option<&[f32]>, indices: &[usize], buffers: &mut Buffers) {
        buffers.weighted = weights.is_some();
        if let Some(weights) = weights {
            for (slot, &i) in buffers.weights.iter_mut().zip(indices) {
                *slot = weights[i];
            }
        }
        let pairs = data
            .inputs
            .iter()
            .zip(&mut buffers.inputs)
            .chain(data.targets.iter().zip(&mut buffers.targets));
        for (column, buf) in pairs {
            let len = column.sample_len();
            for (k, &i) in indices.iter().enumerate() {
                column.copy_sample(i, &mut buf[k * len..(k + 1) * len]);
            }
        }
    }

    /// Loss and accuracy of the last forward pass on `n` samples; writes the
    /// output gradients when `train`.
    pub(crate) fn score<M: Model>(
        &self,
        model: &mut M,
        n: usize,
        buffers: &mut Buffers,
        train: bool,
        tally: &mut Tally,
    ) -> Result<f64, NnError> {
        let spec = M::SPEC;
        let mut total = 0.0;
        for (i, output) in spec.outputs.iter().enumerate() {
            let (loss, weight) = self.loss_for(i);
            let width = output.shape.last().copied().unwrap_or(1);
            let target_len = loss.target_len(output.len() / width, width);
            // Evaluation reports the from-logits loss too, as Keras does.
            let fused = loss.fuses_with(M::OUTPUT_ACTIVATIONS[i]);
            let pred = output_of(model, i)?;
            let targets = &buffers.targets[i][..n * target_len];
            let grad = if train {
                Some(&mut buffers.grads[i][..n * output.len()])
            } else {
                None
            };
            let weights = buffers.weighted.then(|| &buffers.weights[..n]);
            let value = loss.evaluate_weighted(width, pred, targets, weights, fused, weight, grad)?;
            total += weight as f64 * value;
            tally.losses[i] += value * n as f64;
            for (metric, state) in tally.metrics[i].iter_mut() {
                state.update(metric, loss, width, pred, targets);
            }
        }
        tally.total += total * n as f64;
        tally.samples += n;
        Ok(total)
    }

    /// One training step on a prepared batch (forward, loss, backward,
    /// optimizer update) from flat per-sample-contiguous slices, one per
    /// input and per output target. Returns the (weighted) loss. Allocates
    /// nothing once the network has seen a batch this large. For custom loops
    /// and benchmarks; `fit` is built from the same pieces.
    pub fn train_step<M: Model>(
        &mut self,
        model: &mut M,
        batch: usize,
        inputs: &[&[f32]],
        targets: &[&[f32]],
        grads: &mut [Vec<f32>],
    ) -> Result<f64, NnError> {
        let spec = M::SPEC;
        crate::model::check_count(spec.name, "targets", spec.outputs.len(), targets.len())?;
        crate::model::check_count(spec.name, "gradient buffers", spec.outputs.len(), grads.len())?;
        model.forward_slices(batch, inputs, Mode::Train)?;
        let mut total = 0.0;
        for (i, output) in spec.outputs.iter().enumerate() {
            let (loss, weight) = self.loss_for(i);
            let width = output.shape.last().copied().unwrap_or(1);
            let fused = loss.fuses_with(M::OUTPUT_ACTIVATIONS[i]);
            let grad = grads
                .get_mut(i)
                .and_then(|g| g.get_mut(..batch * output.len()))
                .ok_or_else(|| {
                    NnError::invalid_argument(
                        spec.name,
                        format!(
                            "gradient buffer {i} holds fewer than {batch} samples of `{}`",
                            output.name
                        ),
                    )
                })?;
            total += weight as f64
                * loss.evaluate(width, output_of(model, i)?, targets[i], fused, weight, Some(grad))?;
        }
        self.backward_and_step(model, batch, grads)?;
        Ok(total)
    }

    /// Backward from the first `n` samples of each output gradient, then one
    /// optimizer step.
    pub(crate) fn backward_and_step<M: Model>(
        &mut self,
        model: &mut M,
        n: usize,
        grads: &[Vec<f32>],
    ) -> Result<(), NnError> {
        self.backward(model, n, grads)?;
        // The rate and settings this update uses, checked before any weight
        // moves (a schedule or a callback may have changed them).
        self.optimizer.check()?;
        let (params, g) = model.params_and_grads();
        self.optimizer.step(params, g);
        Ok(())
    }

    /// Backward from the first `n` samples of each output gradient into the
    /// model's flat parameter gradient. An output whose loss fuses with its
    /// activation was given the pre-activation gradient, so the network
    /// skips that activation's backward for this call only. (Distributed
    /// training averages the gradient across replicas between this and the
    /// optimizer step.)
    pub(super) fn backward<M: Model>(
        &self,
        model: &mut M,
        n: usize,
        grads: &[Vec<f32>],
    ) -> Result<(), NnError> {
        let spec = M::SPEC;
        let core = model.core_mut();
        if core.skip_output_activation.len() != spec.outputs.len() {
            core.skip_output_activation = vec![false; spec.outputs.len()];
        }
        for (i, skip) in core.skip_output_activation.iter_mut().enumerate() {
            *skip = self.loss_for(i).0.fuses_with(M::OUTPUT_ACTIVATIONS[i]);
        }
        // Up to eight outputs without allocating a slice list.
        let result = if grads.len() <= MAX_STACK_OUTPUTS {
            let mut slices: [&[f32]; MAX_STACK_OUTPUTS] = [&[]; MAX_STACK_OUTPUTS];
            for (slot, (g, o)) in slices.iter_mut().zip(grads.iter().zip(spec.outputs)) {
                *slot = &g[..n * o.len()];
            }
            model.backward_slices(&slices[..grads.len()])
        } else {
            let v: Vec<&[f32]> = grads
                .iter()
                .zip(spec.outputs)
                .map(|(g, o)| &g[..n * o.len()])
                .collect();
            model.backward_slices(&v)
        };
        model.core_mut().skip_output_activation.fill(false);
        result
    }

    /// Trains `model` on `train` (Keras's `fit`). Validation comes from
    /// `validation`, else from `config.validation_split`.
    ///
    /// Memory: the network keeps the activations and gradients of one
    /// `batch_size` batch after `fit` returns, so a following `fit`,
    /// `evaluate` or `train_step` reuses them without allocating. With large
    /// batches (4096 images of a convolutional network is gigabytes), call
    /// [`Model::release_memory`] when training is done; inference after it
    /// holds only what its chunks need.
    pub fn fit<M: Model>(
        &mut self,
        model: &mut M,
        train: &Dataset,
        validation: Option<&Dataset>,
        config: &FitConfig,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<History, NnError> {
        let spec = M::SPEC;
        if config.batch_size == 0 {
            return Err(NnError::invalid_argument(
                spec.name,
                "batch_size must be at least 1",
            ));
        }
        // A bad optimizer setting fails before any epoch starts.
        self.optimizer.check()?;
        if config.epochs == 0 {
            return Err(NnError::invalid_argument(spec.name, "epochs must be at least 1"));
        }
        let split;
        let (train, validation) = match (validation, config.validation_split) {
            (Some(v), _) => (train, Some(v)),
            (None, Some(fraction)) => {
                split = train.split_validation(fraction)?;
                (&split.0, Some(&split.1))
            }
            (None, None) => (train, None),
        };
        self.check::<M>(train, "training data")?;
        if let Some(v) = validation {
            self.check::<M>(v, "validation data")?;
        }
        let from_classes = match &config.class_weight {
            None => None,
            Some(_) if train.sample_weight().is_some() => {
                return Err(NnError::Other(format!(
                    "{}: give class_weight or sample weights, not both (as in Keras)",
                    spec.name
                )))
            }
            Some(_) if spec.outputs.len() != 1 => {
                return Err(NnError::Other(format!(
                    "{}: class_weight is only supported for networks with a single output (this one has {})",
                    spec.name,
                    spec.outputs.len()
                )))
            }
            Some(weights) => Some(class_weight::sample_weights(&train.targets[0], weights)?),
        };
        let train_weights = from_classes.as_deref().or(train.sample_weight());
        let batch = config.batch_size.min(train.len());
        let mut buffers = self.buffers::<M>(train, batch);
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng = StdRng::seed_from_u64(config.seed);
        model.seed_dropout(config.seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut progress = Progress::new(config.verbosity);
        let mut history = History::default();
        let steps = train.len().div_ceil(batch);
        let mut augment = match &config.augmentation {
            Some(aug) => {
                // Before any epoch, not at the first batch.
                aug.check()?;
                let rng = StdRng::seed_from_u64(augmentation_seed(config.seed));
                Some((aug, augmented_image_shape(&spec)?, rng))
            }
            None => None,
        };

        // A callback that stops training in `on_train_begin` gets no epoch
        // (Keras would still run one step before it looks).
        let stopped = self.with_context(model, callbacks, |cb, ctx| cb.on_train_begin(ctx))?;
        let epochs = if stopped { 0 } else { config.epochs };
        'epochs: for epoch in 0..epochs {
            if config.shuffle {
                order.shuffle(&mut rng);
            }
            if self.with_context(model, callbacks, |cb, ctx| cb.on_epoch_begin(epoch, ctx))? {
                break;
            }
            progress.epoch_start(epoch, config.epochs, steps);
            let mut tally = self.tally::<M>();
            let mut stop = false;
            for (step, indices) in order.chunks(batch).enumerate() {
                let n = indices.len();
                Self::gather(train, train_weights, indices, &mut buffers);
                if let Some((aug, shape, aug_rng)) = augment.as_mut() {
                    let len = shape.0 * shape.1 * shape.2;
                    aug.apply(&mut buffers.inputs[0][..n * len], *shape, aug_rng)?;
                }
                buffers.forward(model, n, Mode::Train)?;
                let loss = self.score(model, n, &mut buffers, true, &mut tally)?;
                let non_finite = |what| NnError::NonFinite {
                    network: spec.name,
                    what,
                    epoch: epoch + 1,
                    step: step + 1,
                };
                if !loss.is_finite() {
                    // TerminateOnNaN may turn this error into a stop; the
                    // update from this step is not applied.
                    let running = tally.total / tally.samples.max(1) as f64;
                    if self.with_context(model, callbacks, |cb, ctx| {
                        cb.on_train_batch_end(step, running, ctx)
                    })? {
                        stop = true;
                        break;
                    }
                    return Err(non_finite("loss"));
                }
                self.backward_and_step(model, n, &buffers.grads)?;
                // One pass over the parameters (cheap beside the step that
                // just touched them all): a NaN learning rate or an
                // overflowing update shows here, even on the last step.
                if !all_finite(model.params()) {
                    return Err(non_finite("parameters"));
                }
                if !callbacks.is_empty() {
                    let running = tally.total / tally.samples.max(1) as f64;
                    if self.with_context(model, callbacks, |cb, ctx| {
                        cb.on_train_batch_end(step, running, ctx)
                    })? {
                        stop = true;
                        break;
                    }
                }
                progress.step(step + 1, || tally.logs(&spec, ""));
            }
            let mut logs = tally.logs(&spec, "");
            if let Some(v) = validation {
                let val = self.evaluate_tally(model, v, config.batch_size)?;
                for (name, value) in val.logs(&spec, "val_").values {
                    logs.set(&name, value);
                }
            }
            // Keras 3 logs the rate the epoch ended with as `learning_rate`.
            logs.set("learning_rate", self.optimizer.learning_rate() as f64);
            progress.epoch_end(&logs);
            stop |= self.with_context(model, callbacks, |cb, ctx| cb.on_epoch_end(epoch, &mut logs, ctx))?;
            history.epochs.push(logs);
            if stop {
                break 'epochs;
            }
        }
        self.with_context(model, callbacks, |cb, ctx| cb.on_train_end(ctx))?;
        Ok(history)
    }

    /// The confusion matrix of output `output` on `data` in inference mode
    /// (classes named `0`, `1`, ...; rename through `class_names`). A
    /// single-unit output is read as binary at a threshold of 0.5.
    pub fn confusion_matrix<M: Model>(
        &self,
        model: &mut M,
        data: &Dataset,
        output: usize,
        batch_size: usize,
    ) -> Result<ConfusionMatrix, NnError> {
        let spec = M::SPEC;
        let Some(tensor) = spec.outputs.get(output) else {
            return Err(NnError::IndexOutOfRange {
                context: spec.name.into(),
                what: "output",
                index: output,
                len: spec.outputs.len(),
            });
        };
        if batch_size == 0 {
            return Err(NnError::Other(format!(
                "{}: batch_size must be at least 1",
                spec.name
            )));
        }
        self.check::<M>(data, "evaluation data")?;
        let (loss, _) = self.loss_for(output);
        let width = tensor.shape.last().copied().unwrap_or(1);
        let mut matrix = ConfusionMatrix::numbered(if width == 1 { 2 } else { width });
        let batch = batch_size.min(data.len());
        let mut buffers = self.buffers::<M>(data, batch);
        let indices: Vec<usize> = (0..data.len()).collect();
        let target_len = loss.target_len(tensor.len() / width, width);
        for chunk in indices.chunks(batch) {
            let n = chunk.len();
            Self::gather(data, data.sample_weight(), chunk, &mut buffers);
            buffers.forward(model, n, Mode::Infer)?;
            matrix.add(
                loss,
                width,
                output_of(model, output)?,
                &buffers.targets[output][..n * target_len],
            )?;
        }
        Ok(matrix)
    }

    /// Runs every callback with access to the model's weights and the
    /// optimizer's learning rate; returns whether one asked to stop.
    pub(crate) fn with_context<M: Model>(
        &mut self,
        model: &mut M,
        callbacks: &mut [&mut dyn Callback],
        mut f: impl FnMut(&mut dyn Callback, &mut CallbackContext) -> Result<(), NnError>,
    ) -> Result<bool, NnError> {
        let spec = M::SPEC;
        let core = model.core_mut();
        let mut ctx = CallbackContext::new(&spec, &mut core.params, &mut core.state, &mut self.optimizer);
        for cb in callbacks.iter_mut() {
            f(&mut **cb, &mut ctx)?;
        }
        Ok(ctx.stop_requested())
    }

    fn evaluate_tally<M: Model>(
        &self,
        model: &mut M,
        data: &Dataset,
        batch_size: usize,
    ) -> Result<Tally, NnError> {
        let spec = M::SPEC;
        if batch_size == 0 {
            return Err(NnError::invalid_argument(
                spec.name,
                "batch_size must be at least 1",
            ));
        }
        self.check::<M>(data, "evaluation data")?;
        let batch = batch_size.min(data.len());
        let mut buffers = self.buffers::<M>(data, batch);
        let mut tally = self.tally::<M>();
        let indices: Vec<usize> = (0..data.len()).collect();
        for chunk in indices.chunks(batch) {
            let n = chunk.len();
            Self::gather(data, data.sample_weight(), chunk, &mut buffers);
            buffers.forward(model, n, Mode::Infer)?;
            self.score(model, n, &mut buffers, false, &mut tally)?;
        }
        Ok(tally)
    }

    /// Loss (and accuracy) of `model` on `data` in inference mode (Keras's
    /// `evaluate`).
    pub fn evaluate<M: Model>(
        &self,
        model: &mut M,
        data: &Dataset,
        batch_size: usize,
    ) -> Result<Logs, NnError> {
        Ok(self.evaluate_tally(model, data, batch_size)?.logs(&M::SPEC, ""))
    }
}

/// The image shape augmentation works on: the network's only input, `[h, w, c]`.
pub(crate) fn augmented_image_shape(spec: &crate::spec::ModelSpec) -> Result<(usize, usize, usize), NnError> {
    match spec.inputs {
        [input] if input.shape.len() == 3 => Ok((input.shape[0], input.shape[1], input.shape[2])),
        _ => Err(NnError::Other(format!(
            "{}: augmentation needs one image input [height, width, channels]; this network's inputs are {:?}",
            spec.name,
            spec.inputs.iter().map(|i| i.shape).collect::<Vec<_>>()
        ))),
    }
}

/// The augmentation random stream's seed, apart from shuffling's and dropout's.
pub(crate) fn augmentation_seed(seed: u64) -> u64 {
    seed ^ 0x5851_f42d_4c95_7f2d
}

/// Output `i` of the last forward pass (`i` comes from the spec, so it exists).
pub(crate) fn output_of<M: Model>(model: &M, i: usize) -> Result<&[f32], NnError> {
    model
        .output(i)
        .ok_or_else(|| NnError::Other(format!("internal error: {} has no output {i}", M::SPEC.name)))
}

/// Whether every value is finite: `x * 0` is 0 for finite `x` and NaN for
/// NaN or ±inf, and a sum of such products vectorises.
pub(crate) fn all_finite(values: &[f32]) -> bool {
    values.iter().fold(0.0f32, |acc, &v| acc + v * 0.0) == 0.0
}

/// The per-sample target shape `loss` expects for an output of `shape`:
/// class indices drop the class axis, every other loss matches the output.
fn target_shape(loss: Loss, shape: &[usize]) -> Vec<usize> {
    match loss {
        Loss::SparseCategoricalCrossentropy => shape[..shape.len().saturating_sub(1)].to_vec(),
        _ => shape.to_vec(),
    }
}

/// Shapes equal once trailing axes of size 1 are dropped, as Keras accepts
/// labels `[n]` and `[n, 1]` alike.
fn same_up_to_trailing_ones(a: &[usize], b: &[usize]) -> bool {
    let trim = |s: &[usize]| s.len() - s.iter().rev().take_while(|&&d| d == 1).count();
    a[..trim(a)] == b[..trim(b)]
}

/// Running sums over an epoch or an evaluation.
pub(crate) struct Tally {
    pub(crate) total: f64,
    pub(crate) samples: usize,
    losses: Vec<f64>,
    /// Per output, each metric with its accumulator.
    metrics: Vec<Vec<(Metric, MetricState)>>,
}

impl Tally {
    /// Keras's names: `loss`, `accuracy` for one output; `loss`,
    /// `<out>_loss`, `<out>_accuracy` for several.
    pub(crate) fn logs(&self, spec: &crate::spec::ModelSpec, prefix: &str) -> Logs {
        let mut logs = Logs::default();
        let n = self.samples.max(1) as f64;
        logs.set(&format!("{prefix}loss"), self.total / n);
        let several = spec.outputs.len() > 1;
        for (i, output) in spec.outputs.iter().enumerate() {
            if several {
                logs.set(&format!("{prefix}{}_loss", output.name), self.losses[i] / n);
            }
            for (metric, state) in &self.metrics[i] {
                let name = if several {
                    format!("{prefix}{}_{}", output.name, metric.name)
                } else {
                    format!("{prefix}{}", metric.name)
                };
                logs.set(&name, state.result(metric));
            }
        }
        logs
    }

    /// Every sum as one flat list, so replicas can add theirs in one
    /// all-reduce; [`Tally::with_sums`] reads it back.
    #[cfg(feature = "mpi")]
    pub(crate) fn to_sums(&self) -> Vec<f64> {
        let mut sums = vec![self.total, self.samples as f64];
        sums.extend(&self.losses);
        for (_, state) in self.metrics.iter().flatten() {
            state.push_sums(&mut sums);
        }
        sums
    }

    /// A tally with this one's metrics whose sums are `sums` (counts are
    /// exact in `f64` up to 2^53).
    #[cfg(feature = "mpi")]
    pub(crate) fn with_sums(&self, sums: &[f64]) -> Self {
        let outputs = self.losses.len();
        let mut rest = sums[2 + outputs..].iter().copied();
        Self {
            total: sums[0],
            samples: sums[1] as usize,
            losses: sums[2..2 + outputs].to_vec(),
            metrics: self
                .metrics
                .iter()
                .map(|m| {
                    m.iter()
                        .map(|(metric, _)| (*metric, MetricState::from_sums(metric, &mut rest)))
                        .collect()
                })
                .collect(),
        }
    }
}

/// Batched inference (Keras's `predict`): one array per output. Every
/// input must hold the same number of samples; they run `batch_size` at a
/// time.
pub fn predict<M: Model>(
    model: &mut M,
    inputs: &[ndarray::ArrayViewD<f32>],
    batch_size: usize,
) -> Result<Vec<ndarray::ArrayD<f32>>, NnError> {
    let spec = M::SPEC;
    if batch_size == 0 {
        return Err(NnError::invalid_argument(
            spec.name,
            "batch_size must be at least 1",
        ));
    }
    crate::model::check_count(spec.name, "inputs", spec.inputs.len(), inputs.len())?;
    let total = crate::model::batch_of(spec.name, spec.inputs, inputs)?;
    crate::inference::forward_in_chunks(model, inputs, total, batch_size, Mode::Infer)
}

/// Batched inference with inputs and outputs by name.
pub fn predict_named<M: Model>(
    model: &mut M,
    inputs: Vec<(&str, ndarray::ArrayViewD<f32>)>,
    batch_size: usize,
) -> Result<Vec<(&'static str, ndarray::ArrayD<f32>)>, NnError> {
    let spec = M::SPEC;
    let ordered = crate::train::dataset::order_by_name(spec.name, "input", spec.inputs, inputs)?;
    let outputs = predict(model, &ordered, batch_size)?;
    Ok(spec.outputs.iter().map(|o| o.name).zip(outputs).collect())
}
