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
mod panels;
mod portable;

pub use panels::{pack, packed_len, run_maybe_packed, run_packed, PANEL};

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

/// Runs the gathered product after checking every index it will form: the
/// safe entry point. Each requirement of [`run_unchecked`] that `g` and `o`
/// break is an error naming it.
pub fn run(g: &Gather, o: &mut Output) -> Result<(), KernelError> {
    check(g, o)?;
    // SAFETY: `check` established every requirement of `run_unchecked`, and
    // `active` only returns a path this CPU supports.
    unsafe { run_unchecked(g, o, active()) };
    Ok(())
}

/// Runs the gathered product on `path` without checking anything.
///
/// # Safety
/// With `rows = g.row_off.len()` and `steps = g.k_off.len() * g.k_run`, and
/// nothing to do when `rows`, `steps` or `g.cols` is zero:
/// 1. `path` is supported by this CPU ([`supported`]).
/// 2. `g.k_run >= 1`.
/// 3. Every gathered index is inside `x`: `row_off[r] + k_off[t] + k_run - 1 < x.len()`
///    for every `r` and `t`.
/// 4. `g.ldb >= g.cols` and `(steps - 1) * ldb + cols <= b.len()`.
/// 5. `o.ldo >= g.cols` and `(rows - 1) * ldo + cols <= out.len()`.
/// 6. A bias has at least `cols` values; an addend at least `(rows - 1) * ldo + cols`.
///
/// None of these sums may overflow `usize`.
pub unsafe fn run_unchecked(g: &Gather, o: &mut Output, path: Path) {
    if g.row_off.is_empty() || g.cols == 0 {
        return;
    }
    if g.k_off.is_empty() {
        // No steps: only bias and addend remain, and `x` (whose row offsets
        // requirement 3 does not cover then) is never touched.
        portable::run(g, o);
        return;
    }
    match path {
        // SAFETY: the caller guarantees the CPU supports the path and every
        // index the micro-kernel forms (requirements 1-6).
        #[cfg(target_arch = "x86_64")]
        Path::Avx512 => unsafe { avx512::run(g, o) },
        #[cfg(target_arch = "x86_64")]
        Path::Avx2 => unsafe { avx2::run(g, o) },
        _ => portable::run(g, o),
    }
}

/// Checks every requirement of [`run_unchecked`] except the path's.
fn check(g: &Gather, o: &Output) -> Result<(), KernelError> {
    const NAME: &str = "gathered gemm";
    let bad = |message: String| KernelError::InvalidArgument {
        kernel: NAME,
        message,
    };
    let rows = g.row_off.len();
    if rows == 0 || g.cols == 0 {
        return Ok(());
    }
    if !g.k_off.is_empty() {
        if g.k_run == 0 {
            return Err(bad("k_run is 0; every run needs at least one step".into()));
        }
        let reach = g.row_off.iter().max().copied().unwrap_or(0).checked_add(
            g.k_off
                .iter()
                .max()
                .copied()
                .unwrap_or(0)
                .checked_add(g.k_run - 1)
                .ok_or_else(|| bad("gather offsets overflow".into()))?,
        );
        match reach {
            Some(max_x) if max_x < g.x.len() => {}
            Some(max_x) => return Err(bad(format!("gather index {max_x} beyond x of {}", g.x.len()))),
            None => return Err(bad("gather offsets overflow".into())),
        }
    }
    let steps = g
        .k_off
        .len()
        .checked_mul(g.k_run)
        .ok_or_else(|| bad("step count overflows".into()))?;
    let b_needed = if steps == 0 {
        Some(0)
    } else {
        (steps - 1).checked_mul(g.ldb).and_then(|v| v.checked_add(g.cols))
    };
    if g.ldb < g.cols || b_needed.is_none_or(|need| need > g.b.len()) {
        return Err(bad(format!(
            "b of {} floats too short for {steps} rows of {} (ldb {})",
            g.b.len(),
            g.cols,
            g.ldb
        )));
    }
    let out_needed = (rows - 1).checked_mul(o.ldo).and_then(|v| v.checked_add(g.cols));
    if o.ldo < g.cols || out_needed.is_none_or(|need| need > o.out.len()) {
        return Err(bad(format!(
            "out of {} floats too short for {rows} rows of {} (ldo {})",
            o.out.len(),
            g.cols,
            o.ldo
        )));
    }
    if let Some(b) = o.bias {
        if b.len() < g.cols {
            return Err(bad(format!("bias of {} for {} columns", b.len(), g.cols)));
        }
    }
    if let Some(a) = o.addend {
        if out_needed.is_none_or(|need| a.len() < need) {
            return Err(bad(format!(
                "addend of {} floats for {rows} rows of {}",
                a.len(),
                g.cols
            )));
        }
    }
    Ok(())
}
