//! The right operand `b` packed into column panels.
//!
//! The micro-kernels walk `b` one step row at a time, `ldb` floats apart.
//! With a wide `b` (a kernel with 512 or 2048 filters) those rows are
//! kilobytes apart at a power-of-two stride: every row of a column block
//! falls into the same few cache sets and on its own page, and the block is
//! re-read for every tile of rows. Packed, each block of [`PANEL`] columns
//! is one contiguous run (`steps x PANEL` floats) that streams and stays
//! cached while the row tiles reuse it.

use super::{run, Gather, Output};
use crate::error::KernelError;

/// Columns per panel: the widest AVX-512 tile (two vectors of 16).
pub const PANEL: usize = 32;

/// Floats of `b` with `steps` rows and `cols` columns, packed.
pub const fn packed_len(steps: usize, cols: usize) -> usize {
    cols.div_ceil(PANEL) * PANEL * steps
}

/// Packs `b` (`steps` rows of `cols` values, `ldb` apart) into `packed`:
/// panel `p` holds columns `p * PANEL..` of each step, `PANEL` floats per
/// step, the last panel zero-filled past `cols`.
///
/// # Panics
/// When `b` or `packed` is too short (callers size both from the same shape).
pub fn pack(b: &[f32], ldb: usize, steps: usize, cols: usize, packed: &mut [f32]) {
    let panels = cols.div_ceil(PANEL);
    let packed = &mut packed[..packed_len(steps, cols)];
    for (p, panel) in packed.chunks_exact_mut(steps * PANEL).enumerate().take(panels) {
        let first = p * PANEL;
        let width = (cols - first).min(PANEL);
        for (k, dst) in panel.chunks_exact_mut(PANEL).enumerate() {
            let src = &b[k * ldb + first..k * ldb + first + width];
            dst[..width].copy_from_slice(src);
            dst[width..].fill(0.0);
        }
    }
}

/// [`run_packed`] when `packed` (`g.b` came from [`pack`]), else
/// [`super::run`]: the one switch every caller that packs only wide
/// operands needs.
pub fn run_maybe_packed(g: &Gather, o: &mut Output, packed: bool) -> Result<(), KernelError> {
    if packed {
        run_packed(g, o)
    } else {
        super::run(g, o)
    }
}

/// [`super::run`] with `g.b` packed by [`pack`] (`g.ldb` is ignored; `g.cols`
/// is the unpacked width): one product per panel, each writing its columns.
pub fn run_packed(g: &Gather, o: &mut Output) -> Result<(), KernelError> {
    let steps = g.k_off.len() * g.k_run;
    let needed = packed_len(steps, g.cols);
    if g.b.len() < needed {
        return Err(KernelError::InvalidArgument {
            kernel: "gathered gemm",
            message: format!("packed b of {} floats, expected {needed}", g.b.len()),
        });
    }
    for first in (0..g.cols).step_by(PANEL) {
        let panel = first / PANEL * steps * PANEL;
        let width = (g.cols - first).min(PANEL);
        let panel_g = Gather {
            x: g.x,
            row_off: g.row_off,
            k_off: g.k_off,
            k_run: g.k_run,
            b: &g.b[panel..panel + steps * PANEL],
            ldb: PANEL,
            cols: width,
        };
        let out_len = o.out.len();
        let mut panel_o = Output {
            out: &mut o.out[first.min(out_len)..],
            ldo: o.ldo,
            accumulate: o.accumulate,
            bias: o.bias.map(|b| &b[first.min(b.len())..]),
            addend: o.addend.map(|a| &a[first.min(a.len())..]),
        };
        run(&panel_g, &mut panel_o)?;
    }
    Ok(())
}
