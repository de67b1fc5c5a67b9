//! One spatial axis of a general convolution ([`ConvAxis`], from the layer
//! vocabulary: the macro computes the same geometry at compile time), and
//! its check as a kernel error.

pub use nn_vocab::conv_axis::ConvAxis;

use crate::error::KernelError;

/// Rejects a hand-built axis whose fields do not fit together; `axis`
/// names it in the message ("height", "width").
pub(crate) fn validate(a: &ConvAxis, kernel: &'static str, axis: &'static str) -> Result<(), KernelError> {
    a.check().map_err(|message| KernelError::InvalidArgument {
        kernel,
        message: format!("{axis}: {message}"),
    })
}
