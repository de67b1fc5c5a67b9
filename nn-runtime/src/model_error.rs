//! Errors of whole-network calls: wrong inputs, files, non-finite training,
//! and kernel errors passed up.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::KernelError;

/// An error from running, training, saving or loading a network.
///
/// Match on the variant to react to a kind of problem; the `Display` text
/// names what is wrong and what was expected. New variants may be added, so
/// matches need a `_` arm.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum NnError {
    /// A kernel rejected its buffers (a bug in calling code, reported rather
    /// than risked).
    Kernel(KernelError),
    /// The number of input (or output-gradient, target, loss) arrays differs
    /// from the network's.
    Count {
        network: &'static str,
        what: &'static str,
        expected: usize,
        actual: usize,
    },
    /// An array's shape differs from the declared one (batch axis aside).
    Shape {
        network: &'static str,
        tensor: &'static str,
        expected: Vec<usize>,
        actual: Vec<usize>,
    },
    /// Targets whose per-sample shape does not fit the output and its loss.
    TargetShape {
        network: &'static str,
        output: &'static str,
        loss: &'static str,
        expected: Vec<usize>,
        actual: Vec<usize>,
    },
    /// Arrays of one call hold different numbers of samples.
    BatchMismatch {
        network: &'static str,
        /// The array that disagrees with the first one.
        tensor: String,
        expected: usize,
        actual: usize,
    },
    /// A batch of zero samples.
    EmptyBatch { network: &'static str },
    /// `backward` was called without a training-mode `forward` before it.
    NoForward { network: &'static str },
    /// Training produced a NaN or infinite loss or parameter.
    NonFinite {
        network: &'static str,
        /// `"loss"` or `"parameters"`.
        what: &'static str,
        /// 1-based epoch and step (step 0: found at the end of the epoch).
        epoch: usize,
        step: usize,
    },
    /// A user-defined layer (`Custom(..)`) that does not fit its
    /// declaration, or a network made without its custom layers.
    CustomLayer {
        network: &'static str,
        /// The layer's name in the network: `custom_1`.
        layer: String,
        message: String,
    },
    /// An argument outside its meaningful range (`batch_size = 0`, ...).
    InvalidArgument { context: String, message: String },
    /// Reading or writing a file failed.
    Io {
        /// What was being done: "read", "write weights to", ...
        action: &'static str,
        path: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// A file's contents are not what its format requires. `message`
    /// follows the file name: "is not a valid IDX file: ...".
    InvalidFile {
        file: String,
        /// 1-based line for text files.
        line: Option<usize>,
        message: String,
    },
    /// A weight file does not match the network: every problem at once.
    WeightMismatch {
        file: String,
        network: &'static str,
        problems: Vec<String>,
    },
    /// Memory for `what` could not be allocated.
    OutOfMemory { what: String, bytes: usize },
    /// An environment variable holds a value that cannot be used.
    Environment {
        variable: &'static str,
        value: String,
        expected: &'static str,
    },
    /// An index past the end of what it indexes (a sample of a dataset, an
    /// output of a network, ...).
    IndexOutOfRange {
        /// Who was asked: "Dataset::select", a network's name, ...
        context: String,
        /// What the index counts: "sample", "output", ...
        what: &'static str,
        index: usize,
        len: usize,
    },
    /// A dataset (or a selection of one) with no samples.
    EmptyDataset,
    /// A dataset array without a batch axis (a 0-dimensional array).
    NoBatchAxis {
        /// "input 0", "target 1".
        array: String,
    },
    /// Dataset arrays with different numbers of samples.
    SampleCountMismatch {
        /// The array that disagrees with the first one: "target 0".
        array: String,
        expected: usize,
        actual: usize,
    },
    /// A dataset column whose data no longer holds `samples` samples of its
    /// shape (the columns are public and may be edited after construction).
    ColumnLength {
        /// Where it was found: "DigitsNet: training data" (may be empty).
        context: String,
        /// "input array 0", "target array 1", "sample weights".
        column: String,
        floats: usize,
        samples: usize,
        sample_shape: Vec<usize>,
    },
    /// Arrays given by name that do not match the network's names: every
    /// unknown, missing and repeated name at once.
    Names { network: String, problems: Vec<String> },
    /// A class label that is not a class index in `0..classes`.
    Label {
        /// Who read it: "one_hot", "sparse_categorical_crossentropy".
        context: String,
        label: f64,
        /// The sample it belongs to, when known.
        sample: Option<usize>,
        classes: usize,
    },
    /// A callback monitors a value that training does not log.
    NotLogged { monitor: String, available: Vec<String> },
    /// An optimizer setting outside its range: a negative or NaN learning
    /// rate, a beta outside [0, 1), an epsilon that is not > 0, ...
    Hyperparameter {
        optimizer: &'static str,
        /// Keras's argument name: "learning_rate", "beta_1", ...
        name: &'static str,
        /// The value as given.
        value: String,
        /// The range, as a phrase: "a finite number >= 0".
        expected: &'static str,
    },
    /// Anything else, with its message.
    Other(String),
}

fn dims(shape: &[usize]) -> String {
    let inner: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", inner.join(", "))
}

impl fmt::Display for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NnError::Kernel(e) => write!(f, "{e}"),
            NnError::Count {
                network,
                what,
                expected,
                actual,
            } => write!(f, "{network}: expected {expected} {what}, got {actual}"),
            NnError::Shape {
                network,
                tensor,
                expected,
                actual,
            } => write!(
                f,
                "{network}: `{tensor}` expects shape [batch, {}] but received {}",
                dims(expected).trim_start_matches('[').trim_end_matches(']'),
                dims(actual)
            ),
            NnError::TargetShape {
                network,
                output,
                loss,
                expected,
                actual,
            } => write!(
                f,
                "{network}: targets for output `{output}` have per-sample shape {}, {loss} expects {}",
                dims(actual),
                dims(expected)
            ),
            NnError::BatchMismatch {
                network,
                tensor,
                expected,
                actual,
            } => write!(
                f,
                "{network}: {tensor} has {actual} samples but the first array has {expected}; \
                 every array of one call needs the same number of samples"
            ),
            NnError::EmptyBatch { network } => write!(f, "{network}: the batch is empty (0 samples)"),
            NnError::NoForward { network } => {
                write!(f, "{network}: backward needs a training-mode forward pass first")
            }
            NnError::NonFinite {
                network,
                what,
                epoch,
                step,
            } => {
                write!(f, "{network}: the {what} became NaN or infinite at epoch {epoch}")?;
                if *step > 0 {
                    write!(f, ", step {step}")?;
                }
                write!(
                    f,
                    "; try a lower learning rate or check the data for NaN or infinite values"
                )
            }
            NnError::InvalidArgument { context, message } => write!(f, "{context}: {message}"),
            NnError::CustomLayer {
                network,
                layer,
                message,
            } => {
                write!(f, "{network}: custom layer `{layer}`: {message}")
            }
            NnError::Io { action, path, source } => {
                write!(f, "cannot {action} `{}`: {source}", path.display())
            }
            NnError::InvalidFile {
                file,
                line: Some(line),
                message,
            } => write!(f, "`{file}` line {line}: {message}"),
            NnError::InvalidFile {
                file,
                line: None,
                message,
            } => write!(f, "`{file}` {message}"),
            NnError::WeightMismatch {
                file,
                network,
                problems,
            } => write!(
                f,
                "`{file}` does not match network {network}:\n  - {}",
                problems.join("\n  - ")
            ),
            NnError::OutOfMemory { what, bytes } => {
                write!(f, "cannot allocate {bytes} bytes for {what}; use smaller batches")
            }
            NnError::Environment {
                variable,
                value,
                expected,
            } => write!(f, "{variable}={value:?} is not valid: expected {expected}"),
            NnError::IndexOutOfRange {
                context,
                what,
                index,
                len,
            } => match len.checked_sub(1) {
                Some(last) => write!(
                    f,
                    "{context}: {what} index {index} is out of range; there are {len} ({what} 0 to {last})"
                ),
                None => write!(
                    f,
                    "{context}: {what} index {index} is out of range; there are none"
                ),
            },
            NnError::EmptyDataset => write!(f, "the dataset is empty (0 samples)"),
            NnError::NoBatchAxis { array } => write!(
                f,
                "{array} has no batch axis (a 0-dimensional array); a dataset array needs one"
            ),
            NnError::SampleCountMismatch {
                array,
                expected,
                actual,
            } => write!(
                f,
                "{array} has {actual} samples but the first array has {expected}; \
                 inputs and targets need the same number of samples"
            ),
            NnError::ColumnLength {
                context,
                column,
                floats,
                samples,
                sample_shape,
            } => {
                if !context.is_empty() {
                    write!(f, "{context}: ")?;
                }
                write!(
                    f,
                    "{column} holds {floats} floats, not {samples} samples of shape {}",
                    dims(sample_shape)
                )
            }
            NnError::Names { network, problems } => write!(f, "{network}: {}", problems.join("; ")),
            NnError::Label {
                context,
                label,
                sample,
                classes,
            } => {
                write!(f, "{context}: label {label}")?;
                if let Some(sample) = sample {
                    write!(f, " at sample {sample}")?;
                }
                write!(f, " is not a class index in 0..{classes}")
            }
            NnError::NotLogged { monitor, available } => write!(
                f,
                "callback monitors `{monitor}`, which this training does not report; available: {}",
                available.join(", ")
            ),
            NnError::Hyperparameter {
                optimizer,
                name,
                value,
                expected,
            } => write!(f, "{optimizer}: {name} {value} is not {expected}"),
            NnError::Other(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for NnError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            NnError::Kernel(e) => Some(e),
            NnError::Io { source, .. } => Some(&**source),
            _ => None,
        }
    }
}

impl From<KernelError> for NnError {
    fn from(e: KernelError) -> Self {
        NnError::Kernel(e)
    }
}

impl NnError {
    /// An I/O failure on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NnError::Io {
            action,
            path: path.into(),
            source: Arc::new(source),
        }
    }

    /// A file whose contents break its format.
    pub fn invalid_file(file: impl fmt::Display, line: Option<usize>, message: impl Into<String>) -> Self {
        NnError::InvalidFile {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }

    /// An argument outside its range, in `context` (a network or function name).
    pub fn invalid_argument(context: impl Into<String>, message: impl Into<String>) -> Self {
        NnError::InvalidArgument {
            context: context.into(),
            message: message.into(),
        }
    }
}
