//! Data-parallel training over MPI (feature `mpi`): one model replica per
//! process, every replica on its shard of each global batch, gradients
//! averaged with one all-reduce per step.
//!
//! ```no_run
//! use nn_runtime::train::distributed;
//! # fn data() -> nn_runtime::train::Dataset { unimplemented!() }
//! # fn demo<M: nn_runtime::Model>(mut net: M) -> Result<(), nn_runtime::NnError> {
//! use nn_runtime::train::{Adam, FitConfig, Loss, Trainer};
//! distributed::run(|replicas| {
//!     // Every rank loads the same data and builds the same network; rank
//!     // 0's initial weights are broadcast to the others.
//!     let train = data();
//!     let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
//!     // `batch_size` is the global batch: each of p ranks takes 1/p of it.
//!     let config = FitConfig { batch_size: 32, ..FitConfig::default() };
//!     trainer.fit_distributed(&mut net, &train, None, &config, &mut [], replicas)?;
//!     if replicas.is_root() {
//!         net.save_weights("trained.safetensors")?;
//!     }
//!     Ok::<_, nn_runtime::NnError>(())
//! })?;
//! # Ok(()) }
//! ```
//!
//! What each step does, on every rank: take the rank's contiguous part of
//! the global batch (the same shuffle everywhere, seeded by
//! `FitConfig::seed`), forward, loss, backward into the model's one flat
//! gradient buffer, scale it by `local samples / global samples`, sum it
//! across ranks with one `MPI_Allreduce`, and apply the optimizer to the sum.
//! The result is the gradient of the mean loss over the global batch, as a
//! single process computes it; only the order of the additions differs.
//!
//! Batch normalization keeps per-replica statistics, as Keras's
//! `MirroredStrategy` does with `BatchNormalization` (not
//! `SyncBatchNormalization`): each replica normalizes with the mean and
//! variance of its own shard and updates its own moving averages. At each
//! epoch end the moving averages are averaged across replicas (what Keras
//! reads from its `ON_READ`/`MEAN` variables) before validation, callbacks
//! and the end of `fit`.
//!
//! Failures never leave a rank waiting: an error inside a step (a NaN loss,
//! a kernel error) still takes part in that step's all-reduce with a NaN
//! gradient, so every rank sees it and `fit_distributed` returns an error on
//! every rank in the same step; errors of callbacks (which run on rank 0)
//! are broadcast with their status. [`run`] ends the whole job with
//! `MPI_Abort` when its closure returns an error on any rank or when any rank
//! panics, so a rank that fails outside `fit_distributed` ends the job too.

mod collectives;
mod fit;
mod run;
mod shard;

pub use collectives::Replicas;
pub use run::run;
