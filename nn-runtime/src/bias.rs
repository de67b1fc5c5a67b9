//! The bias gradient over row-major `[rows, channels]` data (the bias
//! itself is added in the gathered GEMM's epilogue).

/// `dbias[c] += sum over rows of grad[r, c]`.
#[inline]
pub(crate) fn accumulate_rows(grad: &[f32], dbias: &mut [f32]) {
    for row in grad.chunks_exact(dbias.len()) {
        dbias.iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
}
