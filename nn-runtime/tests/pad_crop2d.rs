//! ZeroPadding2D and Cropping2D: forward against per-pixel index formulas,
//! backward against central finite differences; cropping undoes padding.

mod common;

use common::*;
use nn_runtime::{Cropping2d, ZeroPadding2d};

const N: usize = 2;

#[test]
fn zero_padding_forward_and_gradient() {
    let pad = ZeroPadding2d {
        in_h: 3,
        in_w: 4,
        channels: 2,
        top: 1,
        bottom: 2,
        left: 0,
        right: 3,
    };
    let (oh, ow, c) = (pad.out_h(), pad.out_w(), 2);
    assert_eq!((oh, ow), (6, 7));
    let x = random_vec(&mut rng(1), N * 3 * 4 * c);
    let mut y = vec![f32::NAN; N * oh * ow * c];
    pad.forward(N, &x, &mut y).unwrap();
    let mut expected = vec![0.0; y.len()];
    for b in 0..N {
        for r in 0..oh {
            for col in 0..ow {
                for ch in 0..c {
                    let inside = (1..4).contains(&r) && col < 4;
                    if inside {
                        expected[((b * oh + r) * ow + col) * c + ch] =
                            x[((b * 3 + r - 1) * 4 + col) * c + ch];
                    }
                }
            }
        }
    }
    assert_close("zero padding forward", &y, &expected, 0.0);

    let g = random_vec(&mut rng(2), y.len());
    let mut dx = vec![0.0; x.len()];
    pad.backward(N, &g, &mut dx).unwrap();
    let mut out = vec![0.0; y.len()];
    check_gradient("zero padding dx", &x, &dx, |p| {
        pad.forward(N, p, &mut out).unwrap();
        dot(&out, &g)
    });
}

#[test]
fn cropping_forward_and_gradient_and_undoes_padding() {
    let crop = Cropping2d {
        in_h: 6,
        in_w: 7,
        channels: 2,
        top: 1,
        bottom: 2,
        left: 0,
        right: 3,
    };
    let (oh, ow, c) = (crop.out_h(), crop.out_w(), 2);
    assert_eq!((oh, ow), (3, 4));
    let x = random_vec(&mut rng(3), N * 6 * 7 * c);
    let mut y = vec![0.0; N * oh * ow * c];
    crop.forward(N, &x, &mut y).unwrap();
    let mut expected = vec![0.0; y.len()];
    for b in 0..N {
        for r in 0..oh {
            for col in 0..ow {
                for ch in 0..c {
                    expected[((b * oh + r) * ow + col) * c + ch] = x[((b * 6 + r + 1) * 7 + col) * c + ch];
                }
            }
        }
    }
    assert_close("cropping forward", &y, &expected, 0.0);

    let g = random_vec(&mut rng(4), y.len());
    let mut dx = vec![0.0; x.len()];
    crop.backward(N, &g, &mut dx).unwrap();
    let mut out = vec![0.0; y.len()];
    check_gradient("cropping dx", &x, &dx, |p| {
        crop.forward(N, p, &mut out).unwrap();
        dot(&out, &g)
    });

    // Padding then cropping the same amounts gives the image back.
    let pad = ZeroPadding2d {
        in_h: 3,
        in_w: 4,
        channels: 2,
        top: 1,
        bottom: 2,
        left: 0,
        right: 3,
    };
    let mut padded = vec![0.0; x.len()];
    pad.forward(N, &y, &mut padded).unwrap();
    let mut back = vec![0.0; y.len()];
    crop.forward(N, &padded, &mut back).unwrap();
    assert_close("crop(pad(y))", &back, &y, 0.0);
}

#[test]
fn cropping_everything_and_wrong_lengths_are_errors() {
    let crop = Cropping2d {
        in_h: 4,
        in_w: 4,
        channels: 1,
        top: 2,
        bottom: 2,
        left: 0,
        right: 0,
    };
    let err = crop.forward(1, &[0.0; 16], &mut []).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cropping: cropping 2+2 rows and 0+0 columns of a 4x4 image leaves nothing"
    );
    let pad = ZeroPadding2d {
        in_h: 2,
        in_w: 2,
        channels: 1,
        top: 1,
        bottom: 1,
        left: 1,
        right: 1,
    };
    let err = pad.forward(1, &[0.0; 4], &mut [0.0; 15]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "zero padding: buffer `output` has 15 elements, expected 16"
    );
}
