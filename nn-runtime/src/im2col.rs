//! Unfolding one NHWC image into GEMM columns, and folding gradients back.
//!
//! Row `oy * out_w + ox` of the column matrix holds the window under output
//! pixel `(oy, ox)` in `[kh, kw, cin]` order, which is exactly the row order
//! of a Keras kernel `[kh, kw, cin, cout]` viewed as `[kh*kw*cin, cout]`.

use crate::window::Window2d;

/// Fills `cols: [out_h*out_w, kh*kw*cin]` from `image: [in_h, in_w, cin]`,
/// writing zeros where the window hangs over the padding.
pub(crate) fn unfold(win: &Window2d, cin: usize, image: &[f32], cols: &mut [f32]) {
    let row_len = win.kernel_h * win.kernel_w * cin;
    let run = win.kernel_w * cin;
    let mut rows = cols.chunks_exact_mut(row_len);
    for oy in 0..win.out_h() {
        let (iy0, ky_lo, ky_hi) = win.rows_for(oy);
        for ox in 0..win.out_w() {
            let (ix0, kx_lo, kx_hi) = win.cols_for(ox);
            let row = rows.next().expect("cols sized by caller");
            for (ky, seg) in row.chunks_exact_mut(run).enumerate() {
                if ky < ky_lo || ky >= ky_hi || kx_lo >= kx_hi {
                    seg.fill(0.0);
                    continue;
                }
                let iy = (iy0 + ky as isize) as usize;
                // Consecutive kx map to consecutive input pixels, so the valid
                // part of a window row is one contiguous copy.
                let ix = (ix0 + kx_lo as isize) as usize;
                let src = &image[(iy * win.in_w + ix) * cin..][..(kx_hi - kx_lo) * cin];
                seg[..kx_lo * cin].fill(0.0);
                seg[kx_lo * cin..kx_hi * cin].copy_from_slice(src);
                seg[kx_hi * cin..].fill(0.0);
            }
        }
    }
}

/// The adjoint of [`unfold`]: adds every column entry back onto the input
/// pixel it was copied from. Padding entries are dropped.
pub(crate) fn fold_add(win: &Window2d, cin: usize, cols: &[f32], image: &mut [f32]) {
    let row_len = win.kernel_h * win.kernel_w * cin;
    let run = win.kernel_w * cin;
    let mut rows = cols.chunks_exact(row_len);
    for oy in 0..win.out_h() {
        let (iy0, ky_lo, ky_hi) = win.rows_for(oy);
        for ox in 0..win.out_w() {
            let (ix0, kx_lo, kx_hi) = win.cols_for(ox);
            let row = rows.next().expect("cols sized by caller");
            if kx_lo >= kx_hi {
                continue;
            }
            for ky in ky_lo..ky_hi {
                let iy = (iy0 + ky as isize) as usize;
                let ix = (ix0 + kx_lo as isize) as usize;
                let dst = &mut image[(iy * win.in_w + ix) * cin..][..(kx_hi - kx_lo) * cin];
                let src = &row[ky * run + kx_lo * cin..ky * run + kx_hi * cin];
                dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
            }
        }
    }
}
