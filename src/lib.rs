//! nn: neural networks written as a `network!` block.
pub use nn_macros::network;
pub use nn_runtime as runtime;
pub use nn_runtime::{Mode, Model, NnError};

pub use ndarray;
pub use rand;

/// Everything a training program needs in one import.
pub mod prelude {
    pub use crate::network;
    pub use nn_runtime::io::datasets;
    pub use nn_runtime::train::{
        one_hot, predict, Adam, Callback, CsvLogger, Dataset, EarlyStopping, FitConfig, History, Logs, Loss,
        ModelCheckpoint, Optimizer, RmsProp, Sgd, Trainer, Verbosity,
    };
    pub use nn_runtime::{Mode, Model, NnError};
}
