//! Training and evaluation on an [`ImageFolder`] streamed from disk: a
//! background thread decodes the next batches (up to `prefetch` ahead) while
//! the network trains on the current one, so only a few batches are ever in
//! memory and decoding overlaps the training step.
//!
//! The epoch loop mirrors `Trainer::fit` (same callbacks, logs, checks);
//! only where a batch comes from differs.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::io::image_folder::{BadFiles, ImageFolder};
use crate::model::{Mode, Model};
use crate::model_error::NnError;
use crate::report::confusion::ConfusionMatrix;
use crate::train::augment::Augmentation;
use crate::train::callbacks::Callback;
use crate::train::history::History;
use crate::train::optimizer::Optimizer;
use crate::train::progress::Progress;
use crate::train::trainer::{all_finite, augmentation_seed, output_of, Buffers, FitConfig, Tally, Trainer};

/// A decoded batch: `n` images and labels, flat.
struct Batch {
    images: Vec<f32>,
    labels: Vec<f32>,
    n: usize,
}

/// Where the time of a streamed `fit` went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StreamStats {
    /// Training batches consumed.
    pub batches: usize,
    /// Time the training loop waited for the loader (0 when decoding keeps up).
    pub waiting: Duration,
    /// Time spent in forward, loss, backward and update.
    pub training: Duration,
    /// Files that failed to decode and were skipped (with `BadFiles::Skip`).
    pub skipped: usize,
}

/// Options of a streamed fit besides [`FitConfig`].
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// Batches decoded ahead of the training loop.
    pub prefetch: usize,
    /// Applied to training batches only.
    pub augmentation: Option<Augmentation>,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            prefetch: 4,
            augmentation: None,
        }
    }
}

/// Decodes `order`'s files batch by batch on a scoped thread and sends them;
/// reuses the buffers the consumer sends back.
fn produce(
    folder: &ImageFolder,
    order: &[usize],
    batch_size: usize,
    full: std::sync::mpsc::SyncSender<Result<Batch, NnError>>,
    empty: Receiver<Batch>,
    skipped: &std::sync::atomic::AtomicUsize,
) {
    let (image_len, label_len) = (folder.image_len(), folder.label_len());
    for chunk in order.chunks(batch_size) {
        let mut batch = empty.try_recv().unwrap_or_else(|_| Batch {
            images: vec![0.0; batch_size * image_len],
            labels: vec![0.0; batch_size * label_len],
            n: 0,
        });
        batch.n = 0;
        for &i in chunk {
            let k = batch.n;
            match folder.decode_into(i, &mut batch.images[k * image_len..(k + 1) * image_len]) {
                Ok(()) => {
                    folder.write_label(
                        folder.files[i].1,
                        &mut batch.labels[k * label_len..(k + 1) * label_len],
                    );
                    batch.n += 1;
                }
                Err(_) if folder.options.bad_files == BadFiles::Skip => {
                    skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Err(e) => {
                    full.send(Err(e)).ok();
                    return;
                }
            }
        }
        if batch.n > 0 && full.send(Ok(batch)).is_err() {
            return; // The consumer stopped.
        }
    }
}

/// Runs `consume` on every batch of `order`, decoded ahead on a thread.
fn stream(
    folder: &ImageFolder,
    order: &[usize],
    batch_size: usize,
    prefetch: usize,
    stats: &mut StreamStats,
    mut consume: impl FnMut(&Batch) -> Result<bool, NnError>,
) -> Result<(), NnError> {
    let skipped = std::sync::atomic::AtomicUsize::new(0);
    let result = std::thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel(prefetch.max(1));
        let (empty_tx, empty_rx): (Sender<Batch>, Receiver<Batch>) = channel();
        let skipped = &skipped;
        scope.spawn(move || produce(folder, order, batch_size, full_tx, empty_rx, skipped));
        loop {
            let waited = Instant::now();
            let Ok(batch) = full_rx.recv() else {
                return Ok(());
            };
            stats.waiting += waited.elapsed();
            let batch = batch?;
            let stop = consume(&batch)?;
            empty_tx.send(batch).ok();
            if stop {
                return Ok(());
            }
        }
    });
    stats.skipped += skipped.load(std::sync::atomic::Ordering::Relaxed);
    result
}

impl<O: Optimizer> Trainer<O> {
    fn check_folder<M: Model>(&self, folder: &ImageFolder) -> Result<(), NnError> {
        let spec = M::SPEC;
        let (h, w) = folder.options.image_size;
        let shape = [h, w, folder.options.color_mode.channels()];
        if spec.inputs.len() != 1 || spec.outputs.len() != 1 {
            return Err(NnError::Other(format!(
                "{}: an image folder feeds networks with one input and one output; this one has {} and {}",
                spec.name,
                spec.inputs.len(),
                spec.outputs.len()
            )));
        }
        if spec.inputs[0].shape != shape {
            return Err(NnError::Other(format!(
                "{}: input `{}` has shape {:?} but the folder's images are {shape:?} \
                 (set image_size and color_mode to match)",
                spec.name, spec.inputs[0].name, spec.inputs[0].shape
            )));
        }
        let output = &spec.outputs[0];
        let (loss, _) = self.loss_for(0);
        let width = output.shape.last().copied().unwrap_or(1);
        let expected = loss.target_len(output.len() / width, width);
        if expected != folder.label_len() || (folder.label_len() == 1 && width < folder.class_names.len()) {
            return Err(NnError::Other(format!(
                "{}: output `{}` ({:?}) with {} does not fit {} classes given as {:?} labels",
                spec.name,
                output.name,
                output.shape,
                loss.name(),
                folder.class_names.len(),
                folder.options.label_mode
            )));
        }
        for metric in &self.metrics {
            metric.check(loss, output.name)?;
        }
        Ok(())
    }

    fn stream_buffers<M: Model>(folder: &ImageFolder, batch: usize) -> Buffers {
        Buffers {
            inputs: vec![vec![0.0; batch * folder.image_len()]],
            targets: vec![vec![0.0; batch * folder.label_len()]],
            grads: vec![vec![0.0; batch * M::SPEC.outputs[0].len()]],
            weights: Vec::new(),
            weighted: false,
        }
    }

    /// `fit` on images streamed from `train` (and `validation`), decoded by
    /// a prefetching thread. Returns the history and where the time went.
    pub fn fit_folder<M: Model>(
        &mut self,
        model: &mut M,
        train: &ImageFolder,
        validation: Option<&ImageFolder>,
        config: &FitConfig,
        stream_config: &StreamConfig,
        callbacks: &mut [&mut dyn Callback],
    ) -> Result<(History, StreamStats), NnError> {
        let spec = M::SPEC;
        if config.batch_size == 0 || config.epochs == 0 {
            return Err(NnError::Other(format!(
                "{}: batch_size and epochs must be at least 1",
                spec.name
            )));
        }
        if config.class_weight.is_some() || config.validation_split.is_some() || config.augmentation.is_some()
        {
            return Err(NnError::Other(format!(
                "{}: for image folders, split with ImageFolderOptions::validation_split and augment with \
                 StreamConfig::augmentation; class_weight is not supported on streams",
                spec.name
            )));
        }
        self.check_folder::<M>(train)?;
        if let Some(v) = validation {
            self.check_folder::<M>(v)?;
        }
        let batch = config.batch_size.min(train.len());
        let mut buffers = Self::stream_buffers::<M>(train, batch);
        let mut order: Vec<usize> = (0..train.len()).collect();
        let mut rng = StdRng::seed_from_u64(config.seed);
        if let Some(aug) = &stream_config.augmentation {
            aug.check()?;
        }
        let mut augment_rng = StdRng::seed_from_u64(augmentation_seed(config.seed));
        model.seed_dropout(config.seed ^ 0x9e37_79b9_7f4a_7c15);
        let mut progress = Progress::new(config.verbosity);
        let mut history = History::default();
        let mut stats = StreamStats::default();
        let steps = train.len().div_ceil(batch);
        let (h, w) = train.options.image_size;
        let channels = train.options.color_mode.channels();

        // As in `fit`: a stop in `on_train_begin` means no epoch.
        let stopped = self.with_context(model, callbacks, |cb, ctx| cb.on_train_begin(ctx))?;
        let epochs = if stopped { 0 } else { config.epochs };
        for epoch in 0..epochs {
            if config.shuffle {
                order.shuffle(&mut rng);
            }
            if self.with_context(model, callbacks, |cb, ctx| cb.on_epoch_begin(epoch, ctx))? {
                break;
            }
            progress.epoch_start(epoch, config.epochs, steps);
            let mut tally = self.tally::<M>();
            let mut step = 0;
            let mut stop = false;
            let mut training = Duration::ZERO;
            stream(train, &order, batch, stream_config.prefetch, &mut stats, |b| {
                let started = Instant::now();
                let n = b.n;
                buffers.inputs[0][..n * train.image_len()]
                    .copy_from_slice(&b.images[..n * train.image_len()]);
                buffers.targets[0][..n * train.label_len()]
                    .copy_from_slice(&b.labels[..n * train.label_len()]);
                if let Some(aug) = &stream_config.augmentation {
                    aug.apply(
                        &mut buffers.inputs[0][..n * train.image_len()],
                        (h, w, channels),
                        &mut augment_rng,
                    )?;
                }
                buffers.forward(model, n, Mode::Train)?;
                let loss = self.score(model, n, &mut buffers, true, &mut tally)?;
                let non_finite = |what| NnError::NonFinite {
                    network: spec.name,
                    what,
                    epoch: epoch + 1,
                    step: step + 1,
                };
                let running = tally.total / tally.samples.max(1) as f64;
                if !loss.is_finite() {
                    if self.with_context(model, callbacks, |cb, ctx| {
                        cb.on_train_batch_end(step, running, ctx)
                    })? {
                        stop = true;
                        return Ok(true);
                    }
                    return Err(non_finite("loss"));
                }
                self.backward_and_step(model, n, &buffers.grads)?;
                if !all_finite(model.params()) {
                    return Err(non_finite("parameters"));
                }
                if !callbacks.is_empty()
                    && self.with_context(model, callbacks, |cb, ctx| {
                        cb.on_train_batch_end(step, running, ctx)
                    })?
                {
                    stop = true;
                }
                step += 1;
                training += started.elapsed();
                progress.step(step, || tally.logs(&spec, ""));
                Ok(stop)
            })?;
            stats.batches += step;
            stats.training += training;
            let mut logs = tally.logs(&spec, "");
            if let Some(v) = validation {
                // The validation pass's waiting is not the training loop's.
                let mut val_stats = StreamStats::default();
                let val = self.evaluate_folder_tally(
                    model,
                    v,
                    config.batch_size,
                    stream_config.prefetch,
                    &mut val_stats,
                )?;
                stats.skipped += val_stats.skipped;
                for (name, value) in val.logs(&spec, "val_").values {
                    logs.set(&name, value);
                }
            }
            logs.set("learning_rate", self.optimizer.learning_rate() as f64);
            progress.epoch_end(&logs);
            stop |= self.with_context(model, callbacks, |cb, ctx| cb.on_epoch_end(epoch, &mut logs, ctx))?;
            history.epochs.push(logs);
            if stop {
                break;
            }
        }
        self.with_context(model, callbacks, |cb, ctx| cb.on_train_end(ctx))?;
        Ok((history, stats))
    }

    fn evaluate_folder_tally<M: Model>(
        &self,
        model: &mut M,
        folder: &ImageFolder,
        batch_size: usize,
        prefetch: usize,
        stats: &mut StreamStats,
    ) -> Result<Tally, NnError> {
        if batch_size == 0 {
            return Err(NnError::Other(format!(
                "{}: batch_size must be at least 1",
                M::SPEC.name
            )));
        }
        self.check_folder::<M>(folder)?;
        let batch = batch_size.min(folder.len());
        let mut buffers = Self::stream_buffers::<M>(folder, batch);
        let mut tally = self.tally::<M>();
        let order: Vec<usize> = (0..folder.len()).collect();
        stream(folder, &order, batch, prefetch, stats, |b| {
            let n = b.n;
            buffers.inputs[0][..n * folder.image_len()].copy_from_slice(&b.images[..n * folder.image_len()]);
            buffers.targets[0][..n * folder.label_len()].copy_from_slice(&b.labels[..n * folder.label_len()]);
            buffers.forward(model, n, Mode::Infer)?;
            self.score(model, n, &mut buffers, false, &mut tally)?;
            Ok(false)
        })?;
        Ok(tally)
    }

    /// The confusion matrix on images streamed from `folder`, with the
    /// folder's class names.
    pub fn confusion_matrix_folder<M: Model>(
        &self,
        model: &mut M,
        folder: &ImageFolder,
        batch_size: usize,
    ) -> Result<ConfusionMatrix, NnError> {
        if batch_size == 0 {
            return Err(NnError::Other(format!(
                "{}: batch_size must be at least 1",
                M::SPEC.name
            )));
        }
        self.check_folder::<M>(folder)?;
        let output = &M::SPEC.outputs[0];
        let width = output.shape.last().copied().unwrap_or(1);
        let mut names = folder.class_names.clone();
        // Outputs beyond the folder's classes are listed by number.
        names.extend((names.len()..width.max(2)).map(|c| c.to_string()));
        let mut matrix = ConfusionMatrix::new(names);
        let (loss, _) = self.loss_for(0);
        let batch = batch_size.min(folder.len());
        let mut input = vec![0.0; batch * folder.image_len()];
        let order: Vec<usize> = (0..folder.len()).collect();
        let mut stats = StreamStats::default();
        stream(folder, &order, batch, 4, &mut stats, |b| {
            input[..b.n * folder.image_len()].copy_from_slice(&b.images[..b.n * folder.image_len()]);
            model.forward_slices(b.n, &[&input[..b.n * folder.image_len()]], Mode::Infer)?;
            matrix.add(
                loss,
                width,
                output_of(model, 0)?,
                &b.labels[..b.n * folder.label_len()],
            )?;
            Ok(false)
        })?;
        Ok(matrix)
    }

    /// `evaluate` on images streamed from `folder`.
    pub fn evaluate_folder<M: Model>(
        &self,
        model: &mut M,
        folder: &ImageFolder,
        batch_size: usize,
    ) -> Result<crate::train::history::Logs, NnError> {
        let mut stats = StreamStats::default();
        let tally = self.evaluate_folder_tally(model, folder, batch_size, 4, &mut stats)?;
        Ok(tally.logs(&M::SPEC, ""))
    }
}
