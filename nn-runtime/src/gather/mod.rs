//! A gathered GEMM: the one micro-kernel behind direct convolution.
//!
//! ```text
//! out[r][n] (= or +=) bias[n] + addend[r][n] + Σ_k x[row_off[r] + off(k)] * b[k * ldb + n]
//! ```
//!
//! where the steps `k` come in runs: `off(t * k_run + c) = k_off[t] + c`
//! (a convolution tap's channels are contiguous; other uses have runs of 1).
//!
//! The left operand is never materialised: row `r`, step `k` reads
//! `x[row_off[r] + k_off[k]]`. With a zero-padded image, the three
//! convolution products are all of this form, so no im2col matrix is built:
//!
//! - forward: rows are output pixels, `k` runs over (tap, input channel),
//!   `b` is the kernel `[kh*kw*cin, cout]`;
//! - input gradient (stride 1): rows are input pixels, `k` over (tap, output
//!   channel) of the padded output gradient, `b` the flipped, transposed kernel;
//! - kernel gradient: rows are (tap, input channel), `k` over output pixels,
//!   `b` the output gradient.
//!
//! Micro-kernels per instruction set (AVX-512, AVX2+FMA, portable) live in
//! their own files; [`Path`] picks one at run time and tests force each.

mod avx2;
mod avx512;
mod portable;

use std::cell::Cell;

use crate::error::KernelError;

/// An instruction-set path for the micro-kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    Portable,
    Avx2,
    Avx512,
}

const UNSET: u8 = 0;

thread_local! {
    // Per thread, so a test forcing one path does not change what tests
    // running beside it exercise.
    static FORCED: Cell<u8> = const { Cell::new(UNSET) };
}

fn encode(p: Path) -> u8 {
    match p {
        Path::Portable => 1,
        Path::Avx2 => 2,
        Path::Avx512 => 3,
    }
}

/// The best path this CPU supports.
pub fn detected() -> Path {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Path::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return Path::Avx2;
        }
    }
    Path::Portable
}

/// Whether `path` can run on this CPU.
pub fn supported(path: Path) -> bool {
    match path {
        Path::Portable => true,
        Path::Avx2 => matches!(detected(), Path::Avx2 | Path::Avx512),
        Path::Avx512 => detected() == Path::Avx512,
    }
}

/// Forces a path on the calling thread (tests check every path the CPU
/// supports); `None` returns to detection. A path the CPU lacks falls back
/// to the detected one.
pub fn force(path: Option<Path>) {
    FORCED.with(|f| f.set(path.map_or(UNSET, encode)));
}

/// The path kernels use now.
pub fn active() -> Path {
    let forced = match FORCED.with(Cell::get) {
        1 => Some(Path::Portable),
        2 => Some(Path::Avx2),
        3 => Some(Path::Avx512),
        _ => None,
    };
    match forced {
        Some(p) if supported(p) => p,
        _ => detected(),
    }
}

/// Operands of one gathered product.
pub struct Gather<'a> {
    pub x: &'a [f32],
    pub row_off: &'a [usize],
    /// Offset of each run's first step.
    pub k_off: &'a [usize],
    /// Steps per run (at least 1).
    pub k_run: usize,
    pub b: &'a [f32],
    pub ldb: usize,
    pub cols: usize,
}

/// Where and how results are written.
pub struct Output<'a> {
    pub out: &'a mut [f32],
    pub ldo: usize,
    pub accumulate: bool,
    pub bias: Option<&'a [f32]>,
    /// Added element-wise before storing: a residual shortcut with the
    /// same layout as `out` (rows of `ldo`).
    pub addend: Option<&'a [f32]>,
}

/// Runs the gathered product after checking every index it will form.
pub fn run(g: &Gather, o: &mut Output) -> Result<(), KernelError> {
    const NAME: &str = "gathered gemm";
    let rows = g.row_off.len();
    let k = g.k_off.len();
    if rows == 0 || g.cols == 0 {
        return Ok(());
    }
    let bad = |message: String| KernelError::InvalidArgument {
        kernel: NAME,
        message,
    };
    if k > 0 {
        let max_x = g.row_off.iter().max().copied().unwrap_or(0) + g.k_off.iter().max().copied().unwrap_or(0);
        if max_x >= g.x.len() {
            return Err(bad(format!("gather index {max_x} beyond x of {}", g.x.len())));
        }
    }
    if g.ldb < g.cols || (k > 0 && (k - 1) * g.ldb + g.cols > g.b.len()) {
        return Err(bad(format!(
            "b of {} floats too short for {k} rows of {} (ldb {})",
            g.b.len(),
            g.cols,
            g.ldb
        )));
    }
    if o.ldo < g.cols || (rows - 1) * o.ldo + g.cols > o.out.len() {
        return Err(bad(format!(
            "out of {} floats too short for {rows} rows of {}",
            o.out.len(),
            g.cols
        )));
    }
    if let Some(b) = o.bias {
        if b.len() < g.cols {
            return Err(bad(format!("bias of {} for {} columns", b.len(), g.cols)));
        }
    }
    if let Some(a) = o.addend {
        if a.len() < (rows - 1) * o.ldo + g.cols {
            return Err(bad(format!(
                "addend of {} floats for {rows} rows of {}",
                a.len(),
                g.cols
            )));
        }
    }
    match active() {
        // SAFETY: every index was checked above; the path is supported.
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => unsafe { avx512::run(g, o) },
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => unsafe { avx2::run(g, o) },
        _ => portable::run(g, o),
    }
    Ok(())
}
