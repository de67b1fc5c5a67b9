//! Element-wise merges of equal-shaped tensors besides `add` (which lives in
//! [`crate::merge`] with its fusions): Keras's `Subtract`, `Multiply`,
//! `Average`, `Maximum` and `Minimum` layers.
//!
//! Backward is computed per input (`dxᵢ += ∂y/∂xᵢ · dy`), so a tensor given
//! twice (`multiply(a, a)`) gets both contributions.

use crate::error::{expect_len, KernelError};
use crate::threads::{self, SharedSlice};

pub use nn_vocab::MergeOp;

fn check(op: MergeOp, kernel: &'static str, count: usize) -> Result<(), KernelError> {
    let ok = match op {
        MergeOp::Subtract => count == 2,
        _ => count >= 2,
    };
    if ok {
        return Ok(());
    }
    let needs = if op == MergeOp::Subtract {
        "exactly two"
    } else {
        "at least two"
    };
    Err(KernelError::InvalidArgument {
        kernel,
        message: format!("{} needs {needs} inputs, got {count}", op.name()),
    })
}

/// The index of the input the value at `i` came from (maximum, minimum).
#[inline]
fn chosen(op: MergeOp, inputs: &[&[f32]], i: usize) -> usize {
    let better = |a: f32, b: f32| match op {
        MergeOp::Maximum => a > b,
        _ => a < b,
    };
    let mut best = 0;
    for (k, x) in inputs.iter().enumerate().skip(1) {
        if better(x[i], inputs[best][i]) {
            best = k;
        }
    }
    best
}

fn check_inputs(kernel: &'static str, op: MergeOp, inputs: &[&[f32]], len: usize) -> Result<(), KernelError> {
    check(op, kernel, inputs.len())?;
    for x in inputs {
        expect_len(kernel, "input", x, len)?;
    }
    Ok(())
}

/// `y = op(x₀, x₁, …)` element by element; all inputs as long as `y`.
pub fn forward(op: MergeOp, inputs: &[&[f32]], y: &mut [f32]) -> Result<(), KernelError> {
    check_inputs("merge", op, inputs, y.len())?;
    let (count, len) = (inputs.len() as f32, y.len());
    let out = SharedSlice::new(y);
    threads::for_ranges(len, 1, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let y = unsafe { out.range(range.clone()) };
        y.copy_from_slice(&inputs[0][range.clone()]);
        for x in &inputs[1..] {
            let x = &x[range.clone()];
            match op {
                MergeOp::Subtract => y.iter_mut().zip(x).for_each(|(o, v)| *o -= v),
                MergeOp::Multiply => y.iter_mut().zip(x).for_each(|(o, v)| *o *= v),
                MergeOp::Average => y.iter_mut().zip(x).for_each(|(o, v)| *o += v),
                // A comparison rather than f32::max so a NaN input shows.
                MergeOp::Maximum => y.iter_mut().zip(x).for_each(|(o, &v)| {
                    if v > *o || v.is_nan() {
                        *o = v
                    }
                }),
                MergeOp::Minimum => y.iter_mut().zip(x).for_each(|(o, &v)| {
                    if v < *o || v.is_nan() {
                        *o = v
                    }
                }),
            }
        }
        if op == MergeOp::Average {
            y.iter_mut().for_each(|o| *o /= count);
        }
    });
    Ok(())
}

/// Backward for input `which`: `dx += ∂y/∂x_which · dy`, reading the inputs
/// of the forward pass (not its output, so nothing divides by an input).
pub fn backward(
    op: MergeOp,
    inputs: &[&[f32]],
    which: usize,
    dy: &[f32],
    dx: &mut [f32],
) -> Result<(), KernelError> {
    check_inputs("merge backward", op, inputs, dy.len())?;
    expect_len("merge backward", "dx", dx, dy.len())?;
    if which >= inputs.len() {
        return Err(KernelError::InvalidArgument {
            kernel: "merge backward",
            message: format!("input {which} of {} inputs", inputs.len()),
        });
    }
    let count = inputs.len() as f32;
    let grads = SharedSlice::new(dx);
    threads::for_ranges(dy.len(), 1, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dx = unsafe { grads.range(range.clone()) };
        let dy = &dy[range.clone()];
        match op {
            MergeOp::Subtract => {
                let sign = if which == 0 { 1.0 } else { -1.0 };
                dx.iter_mut().zip(dy).for_each(|(d, g)| *d += sign * g);
            }
            MergeOp::Average => dx.iter_mut().zip(dy).for_each(|(d, g)| *d += g / count),
            MergeOp::Multiply => {
                for (j, (d, g)) in dx.iter_mut().zip(dy).enumerate() {
                    let i = range.start + j;
                    let others: f32 = inputs
                        .iter()
                        .enumerate()
                        .filter(|&(k, _)| k != which)
                        .map(|(_, x)| x[i])
                        .product();
                    *d += g * others;
                }
            }
            MergeOp::Maximum | MergeOp::Minimum => {
                for (j, (d, g)) in dx.iter_mut().zip(dy).enumerate() {
                    if chosen(op, inputs, range.start + j) == which {
                        *d += g;
                    }
                }
            }
        }
    });
    Ok(())
}
