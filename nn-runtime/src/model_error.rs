//! Errors of whole-network calls: wrong inputs, and kernel errors passed up.

use std::fmt;

use crate::error::KernelError;

/// An error from running, training, saving or loading a network.
#[derive(Debug, Clone, PartialEq)]
pub enum NnError {
    /// A kernel rejected its buffers (a bug in calling code, reported rather
    /// than risked).
    Kernel(KernelError),
    /// The number of input (or output-gradient) arrays differs from the network's.
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
    /// A batch of zero samples.
    EmptyBatch { network: &'static str },
    /// `backward` was called without a training-mode `forward` before it.
    NoForward { network: &'static str },
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
            NnError::EmptyBatch { network } => write!(f, "{network}: the batch is empty (0 samples)"),
            NnError::NoForward { network } => {
                write!(f, "{network}: backward needs a training-mode forward pass first")
            }
            NnError::Other(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for NnError {}

impl From<KernelError> for NnError {
    fn from(e: KernelError) -> Self {
        NnError::Kernel(e)
    }
}
