//! Training: losses, metrics, optimizers, datasets and the `fit` loop.

pub mod callbacks;
pub mod dataset;
#[cfg(feature = "mpi")]
pub mod distributed;
pub mod history;
pub mod loss;
pub mod metric;
pub mod optimizer;
pub mod progress;
pub mod trainer;

pub use callbacks::{Callback, CallbackContext, CsvLogger, EarlyStopping, ModelCheckpoint};
pub use dataset::{one_hot, Column, Dataset};
pub use history::{History, Logs};
pub use loss::Loss;
pub use optimizer::{Adam, Optimizer, RmsProp, Sgd};
pub use progress::Verbosity;
pub use trainer::{predict, predict_named, FitConfig, Trainer};
