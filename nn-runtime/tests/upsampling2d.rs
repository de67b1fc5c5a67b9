//! UpSampling2D: nearest and bilinear forward against a direct per-pixel
//! formula and against Keras 3's own outputs (fixture), backward against
//! central finite differences on both paths.

mod common;

use common::*;
use nn_runtime::{Interpolation, UpSampling2d};

#[allow(dead_code, clippy::all)]
mod keras {
    include!("fixtures/keras_shape_layers.rs");
}

fn layer(
    in_h: usize,
    in_w: usize,
    channels: usize,
    size: (usize, usize),
    interpolation: Interpolation,
) -> UpSampling2d {
    UpSampling2d {
        in_h,
        in_w,
        channels,
        size_h: size.0,
        size_w: size.1,
        interpolation,
    }
}

/// The value at output pixel (`oy`, `ox`), straight from the definition:
/// nearest copies input pixel `(oy / sh, ox / sw)`; bilinear interpolates at
/// the half-pixel-centred source point, clamped into the image.
fn reference(up: &UpSampling2d, x: &[f32], n: usize, oy: usize, ox: usize, ch: usize) -> f32 {
    let (h, w, c) = (up.in_h, up.in_w, up.channels);
    let at = |y: usize, xx: usize| x[((n * h + y) * w + xx) * c + ch] as f64;
    match up.interpolation {
        Interpolation::Nearest => at(oy / up.size_h, ox / up.size_w) as f32,
        Interpolation::Bilinear => {
            let source = |o: usize, size: usize, len: usize| {
                let s = ((o as f64 + 0.5) / size as f64 - 0.5).clamp(0.0, (len - 1) as f64);
                let lo = s.floor() as usize;
                (lo, (lo + 1).min(len - 1), s - lo as f64)
            };
            let (y0, y1, fy) = source(oy, up.size_h, h);
            let (x0, x1, fx) = source(ox, up.size_w, w);
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x1) * fx;
            let bottom = at(y1, x0) * (1.0 - fx) + at(y1, x1) * fx;
            (top * (1.0 - fy) + bottom * fy) as f32
        }
    }
}

fn run(up: UpSampling2d, batch: usize) {
    let x = random_vec(&mut rng(41), batch * up.in_h * up.in_w * up.channels);
    let (oh, ow, c) = (up.out_h(), up.out_w(), up.channels);
    let mut y = vec![f32::NAN; batch * oh * ow * c];
    up.forward(batch, &x, &mut y).unwrap();
    let mut expected = Vec::with_capacity(y.len());
    for n in 0..batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    expected.push(reference(&up, &x, n, oy, ox, ch));
                }
            }
        }
    }
    let what = up.interpolation.name();
    assert_close(what, &y, &expected, 1e-6);

    let r = random_vec(&mut rng(42), y.len());
    let mut dx = vec![0.0; x.len()];
    up.backward(batch, &r, &mut dx).unwrap();
    let mut out = vec![0.0; y.len()];
    check_gradient(what, &x, &dx, |p| {
        up.forward(batch, p, &mut out).unwrap();
        dot(&out, &r)
    });
}

#[test]
fn nearest_2x2_forward_and_gradient() {
    run(layer(3, 4, 2, (2, 2), Interpolation::Nearest), 2);
}

#[test]
fn nearest_uneven_3x1_forward_and_gradient() {
    run(layer(2, 5, 3, (3, 1), Interpolation::Nearest), 1);
}

#[test]
fn bilinear_2x2_forward_and_gradient() {
    run(layer(3, 4, 2, (2, 2), Interpolation::Bilinear), 2);
}

#[test]
fn bilinear_uneven_3x4_on_a_single_row_forward_and_gradient() {
    // A 1-pixel-high image: every row reads the same (clamped) input row.
    run(layer(1, 3, 2, (3, 4), Interpolation::Bilinear), 2);
}

#[test]
fn matches_keras_bilinear_and_nearest() {
    use keras::*;
    let input = &UPSAMPLING_INPUT;
    for (up, expected) in [
        (
            layer(3, 4, 2, (2, 3), Interpolation::Bilinear),
            &UPSAMPLING_BILINEAR_2X3[..],
        ),
        (
            layer(3, 4, 2, (3, 2), Interpolation::Nearest),
            &UPSAMPLING_NEAREST_3X2[..],
        ),
    ] {
        let mut y = vec![0.0; expected.len()];
        up.forward(2, input, &mut y).unwrap();
        assert_close(up.interpolation.name(), &y, expected, 1e-6);
    }
}

#[test]
fn wrong_lengths_and_zero_sizes_are_errors() {
    let up = layer(2, 2, 1, (2, 2), Interpolation::Nearest);
    let err = up.forward(1, &[0.0; 4], &mut [0.0; 15]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "up_sampling2d: buffer `output` has 15 elements, expected 16"
    );
    let err = layer(2, 2, 1, (0, 2), Interpolation::Bilinear)
        .forward(1, &[0.0; 4], &mut [])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "up_sampling2d: size (rows) is zero; every size must be at least 1"
    );
}
