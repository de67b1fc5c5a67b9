//! Joining tensors: element-wise `add` of equal shapes and `concat` along the
//! channel (last) axis.

use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::threads::{self, SharedSlice};

/// `y = x₀ + x₁ + …` for equal-length inputs.
pub fn add_forward(inputs: &[&[f32]], y: &mut [f32]) -> Result<(), KernelError> {
    let Some((first, rest)) = inputs.split_first() else {
        return Err(KernelError::InvalidArgument {
            kernel: "add",
            message: "needs at least one input".into(),
        });
    };
    expect_len("add", "y", y, first.len())?;
    for x in rest {
        expect_len("add", "input", x, first.len())?;
    }
    let out = SharedSlice::new(y);
    threads::for_ranges(first.len(), 1, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let y = unsafe { out.range(range.clone()) };
        y.copy_from_slice(&first[range.clone()]);
        for x in rest {
            y.iter_mut().zip(&x[range.clone()]).for_each(|(o, v)| *o += v);
        }
    });
    Ok(())
}

/// Each input's gradient is the output's: `dxᵢ += dy`.
pub fn add_backward(dy: &[f32], dinputs: &mut [&mut [f32]]) -> Result<(), KernelError> {
    for dx in dinputs.iter_mut() {
        accumulate(dy, dx)?;
    }
    Ok(())
}

/// Concatenates along the last axis: input `i` is `[rows, channels[i]]`, the
/// output `[rows, Σ channels]`. `rows` is the batch times all other axes.
pub fn concat_forward(
    rows: usize,
    channels: &[usize],
    inputs: &[&[f32]],
    y: &mut [f32],
) -> Result<(), KernelError> {
    let total = check_concat("concat", rows, channels, inputs.len())?;
    for (x, &c) in inputs.iter().zip(channels) {
        expect_len("concat", "input", x, rows * c)?;
    }
    expect_len("concat", "y", y, rows * total)?;
    let mut offset = 0;
    for (x, &c) in inputs.iter().zip(channels) {
        concat_forward_part(rows, total, offset, c, x, y)?;
        offset += c;
    }
    Ok(())
}

/// Copies one input into its channels `offset..offset + channels` of a
/// concatenation `y: [rows, total]` (the other channels are written
/// elsewhere, e.g. by convolutions that write in place).
pub fn concat_forward_part(
    rows: usize,
    total: usize,
    offset: usize,
    channels: usize,
    x: &[f32],
    y: &mut [f32],
) -> Result<(), KernelError> {
    expect_nonzero("concat", "channels", channels)?;
    if offset + channels > total {
        return Err(KernelError::InvalidArgument {
            kernel: "concat",
            message: format!(
                "channels {offset}..{} exceed the {total} concatenated",
                offset + channels
            ),
        });
    }
    expect_len("concat", "input", x, rows * channels)?;
    expect_len("concat", "y", y, rows * total)?;
    let out = SharedSlice::new(y);
    threads::for_ranges(rows * total, total, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let y = unsafe { out.range(range.clone()) };
        let first_row = range.start / total;
        let source = &x[first_row * channels..];
        for (out_row, in_row) in y.chunks_exact_mut(total).zip(source.chunks_exact(channels)) {
            copy_short(&mut out_row[offset..offset + channels], in_row);
        }
    });
    Ok(())
}

/// Splits the output gradient back: `dxᵢ += dy[:, slice i]`.
pub fn concat_backward(
    rows: usize,
    channels: &[usize],
    dy: &[f32],
    dinputs: &mut [&mut [f32]],
) -> Result<(), KernelError> {
    let total = check_concat("concat backward", rows, channels, dinputs.len())?;
    expect_len("concat backward", "dy", dy, rows * total)?;
    for (dx, &c) in dinputs.iter().zip(channels) {
        expect_len("concat backward", "dx", dx, rows * c)?;
    }
    let mut offset = 0;
    for (dx, &c) in dinputs.iter_mut().zip(channels) {
        concat_backward_part(rows, total, offset, c, dy, dx)?;
        offset += c;
    }
    Ok(())
}

fn check_concat(
    name: &'static str,
    rows: usize,
    channels: &[usize],
    count: usize,
) -> Result<usize, KernelError> {
    expect_nonzero(name, "rows", rows)?;
    if channels.len() != count || count == 0 {
        return Err(KernelError::InvalidArgument {
            kernel: name,
            message: format!(
                "{} channel counts given for {} tensors (need one each, at least one)",
                channels.len(),
                count
            ),
        });
    }
    for &c in channels {
        expect_nonzero(name, "channels of an input", c)?;
    }
    Ok(channels.iter().sum())
}

/// `dx += dy`: the backward of one `add` input (called once per input, so an
/// input that appears twice gets the gradient twice).
pub fn accumulate(dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
    expect_len("add backward", "dx", dx, dy.len())?;
    let grads = SharedSlice::new(dx);
    threads::for_ranges(dy.len(), 1, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dx = unsafe { grads.range(range.clone()) };
        dx.iter_mut().zip(&dy[range]).for_each(|(d, g)| *d += g);
    });
    Ok(())
}

/// `dx = dy`: [`accumulate`] for the first layer to write a gradient
/// region (so the region needs no zeroing before).
pub fn overwrite(dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
    expect_len("add backward", "dx", dx, dy.len())?;
    let grads = SharedSlice::new(dx);
    threads::for_ranges(dy.len(), 1, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dx = unsafe { grads.range(range.clone()) };
        dx.copy_from_slice(&dy[range]);
    });
    Ok(())
}

/// Backward of one `concat` input: `dx += dy[:, offset..offset + channels]`
/// where `dy` is `[rows, total]`.
pub fn concat_backward_part(
    rows: usize,
    total: usize,
    offset: usize,
    channels: usize,
    dy: &[f32],
    dx: &mut [f32],
) -> Result<(), KernelError> {
    expect_nonzero("concat backward", "channels", channels)?;
    if offset + channels > total {
        return Err(KernelError::InvalidArgument {
            kernel: "concat backward",
            message: format!(
                "channels {offset}..{} exceed the {total} concatenated",
                offset + channels
            ),
        });
    }
    expect_len("concat backward", "dy", dy, rows * total)?;
    expect_len("concat backward", "dx", dx, rows * channels)?;
    let grads = SharedSlice::new(dx);
    threads::for_ranges(rows * channels, channels, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dx = unsafe { grads.range(range.clone()) };
        let first_row = range.start / channels;
        for (d_row, g_row) in dx
            .chunks_exact_mut(channels)
            .zip(dy[first_row * total..].chunks_exact(total))
        {
            d_row
                .iter_mut()
                .zip(&g_row[offset..offset + channels])
                .for_each(|(d, g)| *d += g);
        }
    });
    Ok(())
}

/// Copies a short run (a few channels) without a `memcpy` call per run:
/// fixed 8-float blocks compile to plain vector moves.
#[inline]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    let mut d = dst.chunks_exact_mut(8);
    let mut s = src.chunks_exact(8);
    for (a, b) in (&mut d).zip(&mut s) {
        let block: [f32; 8] = [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]];
        a.copy_from_slice(&block);
    }
    for (a, &b) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *a = b;
    }
}
