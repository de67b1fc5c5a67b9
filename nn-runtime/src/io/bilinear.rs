//! Bilinear resizing as TensorFlow's `tf.image.resize(..., "bilinear")`
//! does it for Keras's `image_dataset_from_directory`: half-pixel centres,
//! no antialiasing, edges clamped.

/// Resizes `src` (`height x width x channels`, row-major, interleaved
/// channels) into `dst` (`out_height x out_width x channels`).
pub fn resize(
    src: &[f32],
    (height, width): (usize, usize),
    channels: usize,
    dst: &mut [f32],
    (out_height, out_width): (usize, usize),
) {
    debug_assert_eq!(src.len(), height * width * channels);
    debug_assert_eq!(dst.len(), out_height * out_width * channels);
    let taps = |out: usize, size: usize, len: usize| -> (usize, usize, f32) {
        // Source coordinate of the output pixel's centre.
        let scale = size as f32 / len as f32;
        let x = ((out as f32 + 0.5) * scale - 0.5).max(0.0);
        let lo = (x.floor() as usize).min(size - 1);
        let hi = (lo + 1).min(size - 1);
        (lo, hi, x - lo as f32)
    };
    for oy in 0..out_height {
        let (y0, y1, fy) = taps(oy, height, out_height);
        for ox in 0..out_width {
            let (x0, x1, fx) = taps(ox, width, out_width);
            for c in 0..channels {
                let at = |y: usize, x: usize| src[(y * width + x) * channels + c];
                let top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
                let bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
                dst[(oy * out_width + ox) * channels + c] = top + (bottom - top) * fy;
            }
        }
    }
}
