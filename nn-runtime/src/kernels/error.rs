//! The error every kernel returns instead of panicking on bad sizes.

use std::fmt;

/// A kernel was called with sizes that do not fit together.
///
/// Kernels check every buffer against the geometry they were given before
/// touching memory, so a mistake in generated or hand-written calling code
/// surfaces as this value rather than as an out-of-bounds access or a silently
/// wrong answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelError {
    /// A buffer's length differs from what the geometry requires.
    BufferLength {
        kernel: &'static str,
        buffer: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A size (batch, channels, kernel extent, stride, ...) is zero.
    ZeroSize {
        kernel: &'static str,
        what: &'static str,
    },
    /// A window (convolution kernel or pooling window) does not fit in its
    /// input under `valid` padding.
    WindowTooLarge {
        kernel: &'static str,
        window: (usize, usize),
        input: (usize, usize),
    },
    /// An argument is outside its meaningful range (a dropout rate of 1.5, ...).
    InvalidArgument { kernel: &'static str, message: String },
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::BufferLength {
                kernel,
                buffer,
                expected,
                actual,
            } => write!(
                f,
                "{kernel}: buffer `{buffer}` has {actual} elements, expected {expected}"
            ),
            KernelError::ZeroSize { kernel, what } => {
                write!(f, "{kernel}: {what} is zero; every size must be at least 1")
            }
            KernelError::WindowTooLarge {
                kernel,
                window,
                input,
            } => write!(
                f,
                "{kernel}: window {}x{} is larger than its {}x{} input with `valid` padding",
                window.0, window.1, input.0, input.1
            ),
            KernelError::InvalidArgument { kernel, message } => write!(f, "{kernel}: {message}"),
        }
    }
}

impl std::error::Error for KernelError {}

/// Checks that `buffer` holds exactly `expected` elements.
pub(crate) fn expect_len<T>(
    kernel: &'static str,
    buffer: &'static str,
    slice: &[T],
    expected: usize,
) -> Result<(), KernelError> {
    if slice.len() == expected {
        Ok(())
    } else {
        Err(KernelError::BufferLength {
            kernel,
            buffer,
            expected,
            actual: slice.len(),
        })
    }
}

/// Checks that a size is at least one.
pub(crate) fn expect_nonzero(
    kernel: &'static str,
    what: &'static str,
    value: usize,
) -> Result<(), KernelError> {
    if value == 0 {
        Err(KernelError::ZeroSize { kernel, what })
    } else {
        Ok(())
    }
}
