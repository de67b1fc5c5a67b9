//! Row-major matrix products on slices, through `matrixmultiply::sgemm`.
//!
//! Every dense and convolution kernel funnels through [`gemm`], so the
//! bounds checks live in one place and the unsafe call sits behind them.

use crate::error::{expect_len, KernelError};

/// Whether an operand is read as stored or transposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transpose {
    No,
    Yes,
}

/// `c = alpha * op(a) * op(b) + beta * c` for row-major matrices, where
/// `op(a)` is `m x k`, `op(b)` is `k x n` and `c` is `m x n`.
///
/// With `beta == 0.0` the previous contents of `c` are ignored (not read), so
/// `c` need not be initialised; with `beta == 1.0` the product accumulates.
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f32,
    a: &[f32],
    trans_a: Transpose,
    b: &[f32],
    trans_b: Transpose,
    beta: f32,
    c: &mut [f32],
) -> Result<(), KernelError> {
    // Products are checked: a wrapped size would let short slices pass and
    // `sgemm` read far past them.
    let size = |rows: usize, cols: usize, what: &str| {
        rows.checked_mul(cols)
            .ok_or_else(|| KernelError::InvalidArgument {
                kernel: "gemm",
                message: format!("{what} of {rows} x {cols} elements overflows"),
            })
    };
    expect_len("gemm", "a", a, size(m, k, "a")?)?;
    expect_len("gemm", "b", b, size(k, n, "b")?)?;
    expect_len("gemm", "c", c, size(m, n, "c")?)?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        // An empty sum: c = beta * c.
        scale(c, beta);
        return Ok(());
    }
    // Strides of op(x) expressed on the stored row-major buffer.
    let (rsa, csa) = match trans_a {
        Transpose::No => (k as isize, 1),
        Transpose::Yes => (1, m as isize),
    };
    let (rsb, csb) = match trans_b {
        Transpose::No => (n as isize, 1),
        Transpose::Yes => (1, k as isize),
    };
    // SAFETY: the lengths were checked above against m, k, n, and the strides
    // describe exactly those row-major (or transposed) layouts, so every index
    // sgemm forms stays inside its slice. `c` is uniquely borrowed.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            alpha,
            a.as_ptr(),
            rsa,
            csa,
            b.as_ptr(),
            rsb,
            csb,
            beta,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
    Ok(())
}

fn scale(c: &mut [f32], beta: f32) {
    if beta == 0.0 {
        c.fill(0.0);
    } else {
        c.iter_mut().for_each(|v| *v *= beta);
    }
}
