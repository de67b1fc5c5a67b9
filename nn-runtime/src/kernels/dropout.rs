//! Inverted dropout: in training, each value is zeroed with probability
//! `rate` and the survivors are scaled by `1 / (1 - rate)`, so inference is
//! the identity.

use rand::Rng;

use crate::error::{expect_len, KernelError};

/// Static description of one dropout layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    pub rate: f32,
}

impl Dropout {
    fn check(&self) -> Result<(), KernelError> {
        if !(0.0..1.0).contains(&self.rate) {
            return Err(KernelError::InvalidArgument {
                kernel: "dropout",
                message: format!("rate must be in [0, 1), got {}", self.rate),
            });
        }
        Ok(())
    }

    /// Training forward: draws a fresh mask from `rng` into `mask` (kept for
    /// backward) and writes `y = x * mask`.
    pub fn forward_train<R: Rng + ?Sized>(
        &self,
        x: &[f32],
        y: &mut [f32],
        mask: &mut [f32],
        rng: &mut R,
    ) -> Result<(), KernelError> {
        self.check()?;
        expect_len("dropout", "y", y, x.len())?;
        expect_len("dropout", "mask", mask, x.len())?;
        let keep = 1.0 / (1.0 - self.rate);
        for m in mask.iter_mut() {
            *m = if rng.random::<f32>() < self.rate {
                0.0
            } else {
                keep
            };
        }
        for ((o, v), m) in y.iter_mut().zip(x).zip(mask.iter()) {
            *o = v * m;
        }
        Ok(())
    }

    /// Inference forward: the identity.
    pub fn forward_infer(&self, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        self.check()?;
        expect_len("dropout", "y", y, x.len())?;
        y.copy_from_slice(x);
        Ok(())
    }

    /// `dx += dy * mask`.
    pub fn backward(&self, mask: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
        expect_len("dropout backward", "mask", mask, dy.len())?;
        expect_len("dropout backward", "dx", dx, dy.len())?;
        for ((d, g), m) in dx.iter_mut().zip(dy).zip(mask) {
            *d += g * m;
        }
        Ok(())
    }
}
