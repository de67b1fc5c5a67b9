//! The bias gradient over row-major `[rows, channels]` data (the bias
//! itself is added in the gathered GEMM's epilogue).

/// `dbias[c] += sum over rows of grad[r, c]`.
#[inline]
pub(crate) fn accumulate_rows(grad: &[f32], dbias: &mut [f32]) {
    for row in grad.chunks_exact(dbias.len()) {
        dbias.iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
}

/// `dbias[c] += sum over rows of grad[r * stride + c]`, rows `stride` apart.
#[inline]
pub(crate) fn accumulate_strided(grad: &[f32], dbias: &mut [f32], stride: usize) {
    if stride == dbias.len() {
        return accumulate_rows(grad, dbias);
    }
    for start in (0..grad.len()).step_by(stride) {
        let row = &grad[start..(start + dbias.len()).min(grad.len())];
        dbias.iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
}
