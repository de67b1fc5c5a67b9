//! Folding im2col columns back onto an NHWC image: the input gradient of a
//! strided convolution.
//!
//! Row `oy * out_w + ox` of the column matrix holds the window under output
//! pixel `(oy, ox)` in `[kh, kw, cin]` order, which is exactly the row order
//! of a Keras kernel `[kh, kw, cin, cout]` viewed as `[kh*kw*cin, cout]`.

use crate::window::Window2d;

/// Adds every column entry back onto the input pixel its window covers.
/// Entries over the padding are dropped.
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
