//! The portable micro-kernel: plain loops over a stack tile of `MR` rows by
//! up to `NB` columns, so the compiler can vectorise the column loop.

use super::{Gather, Output};

const MR: usize = 4;
const NB: usize = 64;

pub(super) fn run(g: &Gather, o: &mut Output) {
    let mut acc = [0.0f32; MR * NB];
    for n0 in (0..g.cols).step_by(NB) {
        let width = (g.cols - n0).min(NB);
        for (block, rows) in g.row_off.chunks(MR).enumerate() {
            acc.fill(0.0);
            let steps = g.k_off.iter().flat_map(|&start| start..start + g.k_run);
            for (kk, koff) in steps.enumerate() {
                let brow = &g.b[kk * g.ldb + n0..kk * g.ldb + n0 + width];
                for (r, &roff) in rows.iter().enumerate() {
                    let a = g.x[roff + koff];
                    for (acc_v, &bv) in acc[r * NB..r * NB + width].iter_mut().zip(brow) {
                        *acc_v += a * bv;
                    }
                }
            }
            for r in 0..rows.len() {
                let dst = &mut o.out[(block * MR + r) * o.ldo + n0..][..width];
                for (n, d) in dst.iter_mut().enumerate() {
                    let mut v = acc[r * NB + n];
                    if let Some(b) = o.bias {
                        v += b[n0 + n];
                    }
                    if let Some(a) = o.addend {
                        v += a[(block * MR + r) * o.ldo + n0 + n];
                    }
                    *d = if o.accumulate { *d + v } else { v };
                }
            }
        }
    }
}
