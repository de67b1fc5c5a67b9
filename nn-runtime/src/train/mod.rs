//! Training: losses, metrics, optimizers, datasets and the `fit` loop.

pub mod augment;
pub mod callbacks;
pub mod class_weight;
pub mod dataset;
#[cfg(feature = "mpi")]
pub mod distributed;
pub mod history;
pub mod image_stream;
pub mod learning_rate_callbacks;
pub mod loss;
pub mod metric;
pub mod optimizer;
pub mod progress;
pub mod schedule;
pub mod trainer;

pub use augment::{Augmentation, Flip};
pub use callbacks::{Callback, CallbackContext, CsvLogger, EarlyStopping, ModelCheckpoint};
pub use dataset::{one_hot, Column, Dataset};
pub use history::{History, Logs};
pub use image_stream::{StreamConfig, StreamStats};
pub use learning_rate_callbacks::{LearningRateScheduler, MonitorMode, ReduceLROnPlateau, TerminateOnNaN};
pub use loss::Loss;
pub use metric::{Metric, MetricKind};
pub use optimizer::{Adam, Optimizer, RmsProp, Sgd};
pub use progress::Verbosity;
pub use schedule::{CosineDecay, ExponentialDecay, LearningRateSchedule, PiecewiseConstantDecay, Scheduled};
pub use trainer::{predict, predict_named, FitConfig, Trainer};
