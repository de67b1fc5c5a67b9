//! Bias addition and its gradient over row-major `[rows, channels]` data.

/// `values[r, c] += bias[c]` for every row.
#[inline]
pub(crate) fn add_rows(values: &mut [f32], bias: &[f32]) {
    for row in values.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
    }
}

/// `dbias[c] += sum over rows of grad[r, c]`.
#[inline]
pub(crate) fn accumulate_rows(grad: &[f32], dbias: &mut [f32]) {
    for row in grad.chunks_exact(dbias.len()) {
        dbias.iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
}
