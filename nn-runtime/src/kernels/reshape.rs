//! Keras's `Reshape`: the same values in the same (row-major) order under
//! another shape, so forward is a copy and backward adds the gradient back.
//! Shapes are the macro's business; here only the lengths must agree.

use crate::error::{expect_len, KernelError};

/// `y = x`.
pub fn forward(x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
    expect_len("reshape", "y", y, x.len())?;
    y.copy_from_slice(x);
    Ok(())
}

/// `dx += dy`.
pub fn backward(dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
    expect_len("reshape backward", "dx", dx, dy.len())?;
    dx.iter_mut().zip(dy).for_each(|(d, g)| *d += g);
    Ok(())
}
