//! The weight tensors a layer owns, as Keras lays them out.

use crate::initializer::Initializer;

/// One weight tensor of a layer, in Keras's order (`layer.weights`).
#[derive(Debug, Clone, PartialEq)]
pub struct Weight {
    /// The name after the layer's in weight files: `kernel` in `conv2d_1.kernel`.
    pub name: &'static str,
    /// Keras layout, e.g. `[kh, kw, cin, cout]` for a convolution kernel.
    pub shape: Vec<usize>,
    /// Trained by the optimizer (else state: batch-norm statistics).
    pub trainable: bool,
    pub init: Initializer,
    /// Fans the initializer scales by: `(fan_in, fan_out)`.
    pub fans: (usize, usize),
}

impl Weight {
    /// A weight that is not scaled by fans (biases, batch-norm vectors).
    pub fn vector(name: &'static str, len: usize, trainable: bool, init: Initializer) -> Weight {
        Weight {
            name,
            shape: vec![len],
            trainable,
            init,
            fans: (0, 0),
        }
    }

    /// Elements, or `None` on overflow.
    pub fn checked_len(&self) -> Option<usize> {
        self.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }
}
