//! AVX-512 micro-kernel: a tile of `MR` rows by `16 * NV` columns kept in
//! zmm registers; each step broadcasts one gathered value per row and
//! multiplies it into the `NV` vectors of a row of `b`.

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::{Gather, Output};

/// Runs the whole product, column blocks of 32 then 16 (the last masked).
///
/// # Safety
/// The CPU supports AVX-512F, and `g`, `o` meet every requirement of
/// [`super::run_unchecked`] with at least one row, step and column.
pub(super) unsafe fn run(g: &Gather, o: &mut Output) {
    let mut n0 = 0;
    while n0 < g.cols {
        let left = g.cols - n0;
        if left >= 32 {
            // SAFETY: the caller's guarantees; columns `n0..n0 + 32` exist.
            unsafe { columns::<8, 2>(g, o, n0, 0xFFFF) };
            n0 += 32;
        } else {
            let mask: u16 = if left >= 16 {
                0xFFFF
            } else {
                (1u32 << left) as u16 - 1
            };
            // SAFETY: the caller's guarantees; `mask` covers existing columns only.
            unsafe { columns::<8, 1>(g, o, n0, mask) };
            n0 += 16;
        }
    }
}

/// # Safety
/// As [`run`]; the columns of the `NV - 1` full vectors and the lanes of
/// `mask` in the last one are below `g.cols`.
#[target_feature(enable = "avx512f")]
unsafe fn columns<const MR: usize, const NV: usize>(g: &Gather, o: &mut Output, n0: usize, mask: u16) {
    let rows = g.row_off.len();
    let mut r0 = 0;
    while r0 < rows {
        let valid = (rows - r0).min(MR);
        // Rows past the end repeat the last one; their results are not stored.
        let mut base = [std::ptr::null::<f32>(); MR];
        for (r, slot) in base.iter_mut().enumerate() {
            let row = g.row_off[r0 + r.min(valid - 1)];
            // SAFETY: row offsets are inside `x` (caller's requirement 3).
            *slot = unsafe { g.x.as_ptr().add(row) };
        }
        // SAFETY: as this function's, with `valid` rows from `r0` existing.
        unsafe { tile::<MR, NV>(g, o, &base, r0, valid, n0, mask) };
        r0 += MR;
    }
}

/// # Safety
/// As [`columns`]; `base` holds row pointers into `x` and rows
/// `r0..r0 + valid` exist.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn tile<const MR: usize, const NV: usize>(
    g: &Gather,
    o: &mut Output,
    base: &[*const f32; MR],
    r0: usize,
    valid: usize,
    n0: usize,
    mask: u16,
) {
    // SAFETY: every step offset from a row pointer, every step row of `b`
    // and every bias, addend and output column in the masks is inside its
    // slice (the caller's guarantees); masked-off lanes are not accessed.
    unsafe {
        let mut acc = [[_mm512_setzero_ps(); NV]; MR];
        let mut bp = g.b.as_ptr().add(n0);
        // Steps come in runs of `k_run` consecutive offsets (a tap's channels):
        // one table read per run, then plain pointer steps.
        for &off in g.k_off {
            let mut rows = [std::ptr::null::<f32>(); MR];
            for (row, b) in rows.iter_mut().zip(base.iter()) {
                *row = b.add(off);
            }
            for c in 0..g.k_run {
                let mut bv = [_mm512_setzero_ps(); NV];
                for (v, slot) in bv.iter_mut().enumerate() {
                    *slot = if v + 1 == NV {
                        _mm512_maskz_loadu_ps(mask, bp.add(16 * v))
                    } else {
                        _mm512_loadu_ps(bp.add(16 * v))
                    };
                }
                for r in 0..MR {
                    let a = _mm512_set1_ps(*rows[r].add(c));
                    for v in 0..NV {
                        acc[r][v] = _mm512_fmadd_ps(a, bv[v], acc[r][v]);
                    }
                }
                bp = bp.wrapping_add(g.ldb);
            }
        }
        let out = o.out.as_mut_ptr();
        for (r, row) in acc.iter().enumerate().take(valid) {
            let dst = out.add((r0 + r) * o.ldo + n0);
            for (v, &value) in row.iter().enumerate() {
                let m = if v + 1 == NV { mask } else { 0xFFFF };
                let mut value = value;
                if let Some(bias) = o.bias {
                    value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(m, bias.as_ptr().add(n0 + 16 * v)));
                }
                if let Some(addend) = o.addend {
                    let at = addend.as_ptr().add((r0 + r) * o.ldo + n0 + 16 * v);
                    value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(m, at));
                }
                if o.accumulate {
                    value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(m, dst.add(16 * v)));
                }
                _mm512_mask_storeu_ps(dst.add(16 * v), m, value);
            }
        }
    }
}
