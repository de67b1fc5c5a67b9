//! Element-wise functions of one tensor that Keras writes as ops rather than
//! layers (`keras.ops.abs`, `square`, `sqrt`); a functional model shows each
//! call as a row of its own (`Absolute`, `Square`, `Sqrt`).
//!
//! Backward reads the forward pass's input `x`.

use crate::error::{expect_len, KernelError};
use crate::threads::{self, SharedSlice};

/// Keras's `backend.epsilon()`: the floor under `sqrt`'s argument in its
/// derivative, so the gradient at 0 is large (≈1581) but finite.
pub const SQRT_EPSILON: f32 = 1e-7;

pub use nn_vocab::UnaryOp;

#[inline]
fn apply(op: UnaryOp, x: f32) -> f32 {
    match op {
        UnaryOp::Abs => x.abs(),
        UnaryOp::Square => x * x,
        UnaryOp::Sqrt => x.sqrt(),
    }
}

/// `dy/dx` at `x`.
#[inline]
pub fn derivative(op: UnaryOp, x: f32) -> f32 {
    match op {
        UnaryOp::Abs => {
            if x > 0.0 {
                1.0
            } else if x < 0.0 {
                -1.0
            } else {
                // NaN stays NaN; 0 has derivative 0.
                x
            }
        }
        UnaryOp::Square => 2.0 * x,
        UnaryOp::Sqrt => {
            if x < 0.0 || x.is_nan() {
                f32::NAN
            } else {
                0.5 / x.max(SQRT_EPSILON).sqrt()
            }
        }
    }
}

/// `y = op(x)`.
pub fn forward(op: UnaryOp, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
    expect_len(op.name(), "y", y, x.len())?;
    let out = SharedSlice::new(y);
    threads::for_ranges(x.len(), 1, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let y = unsafe { out.range(range.clone()) };
        y.iter_mut().zip(&x[range]).for_each(|(o, &v)| *o = apply(op, v));
    });
    Ok(())
}

/// `dx += op'(x) · dy`.
pub fn backward(op: UnaryOp, x: &[f32], dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
    expect_len(op.name(), "dy", dy, x.len())?;
    expect_len(op.name(), "dx", dx, x.len())?;
    let grads = SharedSlice::new(dx);
    threads::for_ranges(x.len(), 1, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dx = unsafe { grads.range(range.clone()) };
        for ((d, &g), &v) in dx.iter_mut().zip(&dy[range.clone()]).zip(&x[range]) {
            *d += g * derivative(op, v);
        }
    });
    Ok(())
}
