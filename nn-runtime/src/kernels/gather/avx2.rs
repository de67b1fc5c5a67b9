//! AVX2 + FMA micro-kernel: a tile of `MR` rows by `8 * NV` columns in ymm
//! registers (16 of them: 12 accumulators, 2 for `b`, one broadcast).

#![cfg(target_arch = "x86_64")]

use std::arch::x86_64::*;

use super::{Gather, Output};

/// # Safety
/// The CPU supports AVX2 and FMA, and `g`, `o` meet every requirement of
/// [`super::run_unchecked`] with at least one row, step and column.
pub(super) unsafe fn run(g: &Gather, o: &mut Output) {
    let mut n0 = 0;
    while n0 < g.cols {
        let left = g.cols - n0;
        let width = left.min(16);
        // SAFETY: the caller's guarantees, and `n0 < cols`.
        unsafe { columns(g, o, n0, width) };
        n0 += 16;
    }
}

/// Lane masks for `width` valid columns out of 16 (two ymm vectors).
fn masks(width: usize) -> [[i32; 8]; 2] {
    let mut m = [[0i32; 8]; 2];
    for i in 0..width.min(16) {
        m[i / 8][i % 8] = -1;
    }
    m
}

/// Columns `n0..n0 + width` (`width <= 16`). The second vector of 8 lies
/// past the end of `b`, the bias or the output when `width <= 8`: its
/// address is formed with `wrapping_add` and only masked (untouched) lanes
/// use it, so no access leaves the slices.
///
/// # Safety
/// As [`run`], and `n0 + width <= g.cols`.
#[target_feature(enable = "avx2,fma")]
unsafe fn columns(g: &Gather, o: &mut Output, n0: usize, width: usize) {
    // SAFETY: every row offset plus step is inside `x`, every step row of
    // `b`, bias and output column below `n0 + width` is inside its slice
    // (the caller's guarantees); lanes past `width` are masked off.
    unsafe {
        const MR: usize = 6;
        let rows = g.row_off.len();
        let m = masks(width);
        let mask = [
            _mm256_loadu_si256(m[0].as_ptr() as *const __m256i),
            _mm256_loadu_si256(m[1].as_ptr() as *const __m256i),
        ];
        let mut r0 = 0;
        while r0 < rows {
            let valid = (rows - r0).min(MR);
            let mut base = [std::ptr::null::<f32>(); MR];
            for (r, slot) in base.iter_mut().enumerate() {
                *slot = g.x.as_ptr().add(g.row_off[r0 + r.min(valid - 1)]);
            }
            let mut acc = [[_mm256_setzero_ps(); 2]; MR];
            let mut bp = g.b.as_ptr().add(n0);
            for &start in g.k_off {
                for off in start..start + g.k_run {
                    let b0 = _mm256_maskload_ps(bp, mask[0]);
                    let b1 = _mm256_maskload_ps(bp.wrapping_add(8), mask[1]);
                    for r in 0..MR {
                        let a = _mm256_broadcast_ss(&*base[r].add(off));
                        acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
                        acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
                    }
                    bp = bp.wrapping_add(g.ldb);
                }
            }
            let out = o.out.as_mut_ptr();
            for (r, row) in acc.iter().enumerate().take(valid) {
                let dst = out.wrapping_add((r0 + r) * o.ldo + n0);
                for v in 0..2 {
                    let mut value = row[v];
                    if let Some(bias) = o.bias {
                        value = _mm256_add_ps(
                            value,
                            _mm256_maskload_ps(bias.as_ptr().wrapping_add(n0 + 8 * v), mask[v]),
                        );
                    }
                    if let Some(addend) = o.addend {
                        let at = addend.as_ptr().wrapping_add((r0 + r) * o.ldo + n0 + 8 * v);
                        value = _mm256_add_ps(value, _mm256_maskload_ps(at, mask[v]));
                    }
                    if o.accumulate {
                        value = _mm256_add_ps(value, _mm256_maskload_ps(dst.wrapping_add(8 * v), mask[v]));
                    }
                    _mm256_maskstore_ps(dst.wrapping_add(8 * v), mask[v], value);
                }
            }
            r0 += MR;
        }
    }
}
