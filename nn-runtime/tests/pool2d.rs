//! Max, average, global-average and global-max pooling: forward against direct loops,
//! gradients against finite differences.

mod common;

use common::*;
use nn_runtime::{GlobalAveragePool2d, GlobalMaxPool2d, Padding, Pool2d, PoolKind, Window2d};

#[allow(clippy::too_many_arguments)]
fn reference(
    kind: PoolKind,
    b: usize,
    h: usize,
    w: usize,
    c: usize,
    k: (usize, usize),
    s: (usize, usize),
    pad: Padding,
    x: &[f32],
) -> Vec<f32> {
    let (oh, ow, pt, pl) = match pad {
        Padding::Valid => ((h - k.0) / s.0 + 1, (w - k.1) / s.1 + 1, 0, 0),
        Padding::Same => {
            let (oh, ow) = (h.div_ceil(s.0), w.div_ceil(s.1));
            let ph = ((oh - 1) * s.0 + k.0).saturating_sub(h);
            let pw = ((ow - 1) * s.1 + k.1).saturating_sub(w);
            (oh, ow, ph / 2, pw / 2)
        }
    };
    let mut y = Vec::new();
    for n in 0..b {
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let mut vals = Vec::new();
                    for ky in 0..k.0 {
                        for kx in 0..k.1 {
                            let iy = (oy * s.0 + ky) as isize - pt as isize;
                            let ix = (ox * s.1 + kx) as isize - pl as isize;
                            if iy >= 0 && ix >= 0 && iy < h as isize && ix < w as isize {
                                vals.push(x[((n * h + iy as usize) * w + ix as usize) * c + ch]);
                            }
                        }
                    }
                    y.push(match kind {
                        PoolKind::Max => vals.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                        PoolKind::Average => vals.iter().sum::<f32>() / vals.len() as f32,
                    });
                }
            }
        }
    }
    y
}

#[allow(clippy::too_many_arguments)]
fn run(
    kind: PoolKind,
    b: usize,
    h: usize,
    w: usize,
    c: usize,
    k: (usize, usize),
    s: (usize, usize),
    pad: Padding,
) {
    let spec = Pool2d {
        kind,
        window: Window2d {
            in_h: h,
            in_w: w,
            kernel_h: k.0,
            kernel_w: k.1,
            stride_h: s.0,
            stride_w: s.1,
            padding: pad,
        },
        channels: c,
    };
    let mut rng = rng(21);
    let x = distinct_vec(&mut rng, b * spec.in_len());
    let mut y = vec![0.0; b * spec.out_len()];
    spec.forward(b, &x, &mut y).unwrap();
    assert_close(
        "pool forward",
        &y,
        &reference(kind, b, h, w, c, k, s, pad, &x),
        1e-6,
    );

    let r = random_vec(&mut rng, y.len());
    let mut dx = vec![0.0; x.len()];
    spec.backward(b, &x, &y, &r, &mut dx).unwrap();
    let mut out = vec![0.0; y.len()];
    check_gradient("pool dx", &x, &dx, |p| {
        spec.forward(b, p, &mut out).unwrap();
        dot(&out, &r)
    });
    check_dx_write_modes(&spec, b, &x, &y, &r, &dx);
}

/// `Overwrite` ignores what `dx` held (garbage here) and equals the
/// accumulated-from-zero gradient even where windows overlap; `Accumulate`
/// adds to what `dx` held. With 1 and 2 threads.
fn check_dx_write_modes(spec: &Pool2d, b: usize, x: &[f32], y: &[f32], r: &[f32], from_zero: &[f32]) {
    use nn_runtime::{threads, GradWrite};
    let base = random_vec(&mut rng(22), x.len());
    for count in [1, 2] {
        threads::set(count);
        let mut dx = vec![f32::NAN; x.len()];
        spec.backward_with(b, x, y, r, &mut dx, GradWrite::Overwrite)
            .unwrap();
        assert_eq!(dx, from_zero, "overwritten pool dx, {count} threads");
        let mut dx = base.clone();
        spec.backward_with(b, x, y, r, &mut dx, GradWrite::Accumulate)
            .unwrap();
        let expected: Vec<f32> = base.iter().zip(from_zero).map(|(a, g)| a + g).collect();
        assert_close("accumulated pool dx", &dx, &expected, 1e-6);
    }
    threads::set(1);
}

#[test]
fn max_pool_2x2_default_stride_valid() {
    run(PoolKind::Max, 2, 6, 6, 3, (2, 2), (2, 2), Padding::Valid);
}

#[test]
fn max_pool_2x2_odd_input_valid_drops_edge() {
    run(PoolKind::Max, 1, 5, 7, 2, (2, 2), (2, 2), Padding::Valid);
}

#[test]
fn max_pool_3x3_stride2_valid_like_inception() {
    run(PoolKind::Max, 2, 9, 9, 2, (3, 3), (2, 2), Padding::Valid);
}

#[test]
fn max_pool_3x3_stride1_same_inception_branch() {
    run(PoolKind::Max, 2, 5, 6, 3, (3, 3), (1, 1), Padding::Same);
}

#[test]
fn max_pool_2x2_odd_input_same() {
    run(PoolKind::Max, 1, 5, 5, 2, (2, 2), (2, 2), Padding::Same);
}

#[test]
fn average_pool_2x2_valid() {
    run(PoolKind::Average, 2, 6, 4, 3, (2, 2), (2, 2), Padding::Valid);
}

#[test]
fn average_pool_3x3_stride1_same_excludes_padding() {
    run(PoolKind::Average, 2, 5, 5, 2, (3, 3), (1, 1), Padding::Same);
}

#[test]
fn average_pool_asymmetric_2x3_stride_1_2_same() {
    run(PoolKind::Average, 1, 5, 7, 2, (2, 3), (1, 2), Padding::Same);
}

#[test]
fn average_pool_same_corner_averages_only_real_cells() {
    // 2x2 input, 3x3 window, stride 1, same: the top-left output covers the
    // four real cells only (padding excluded), so it is their plain mean.
    let spec = Pool2d {
        kind: PoolKind::Average,
        window: Window2d {
            in_h: 2,
            in_w: 2,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 1,
            padding: Padding::Same,
        },
        channels: 1,
    };
    let mut y = vec![0.0; 4];
    spec.forward(1, &[1.0, 2.0, 3.0, 4.0], &mut y).unwrap();
    assert_close("corner average", &y, &[2.5; 4], 1e-6);
}

#[test]
fn global_average_pool() {
    let spec = GlobalAveragePool2d {
        h: 3,
        w: 4,
        channels: 5,
    };
    let mut rng = rng(2);
    let x = random_vec(&mut rng, 2 * 3 * 4 * 5);
    let mut y = vec![0.0; 10];
    spec.forward(2, &x, &mut y).unwrap();
    let expected: Vec<f32> = (0..10)
        .map(|i| {
            let (n, c) = (i / 5, i % 5);
            (0..12).map(|p| x[(n * 12 + p) * 5 + c]).sum::<f32>() / 12.0
        })
        .collect();
    assert_close("global average forward", &y, &expected, 1e-6);
    let r = random_vec(&mut rng, 10);
    let mut dx = vec![0.0; x.len()];
    spec.backward(2, &r, &mut dx).unwrap();
    let mut out = vec![0.0; 10];
    check_gradient("global average dx", &x, &dx, |p| {
        spec.forward(2, p, &mut out).unwrap();
        dot(&out, &r)
    });
}

#[test]
fn pool_rejects_window_larger_than_valid_input() {
    let spec = Pool2d {
        kind: PoolKind::Max,
        window: Window2d {
            in_h: 2,
            in_w: 2,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 2,
            stride_w: 2,
            padding: Padding::Valid,
        },
        channels: 1,
    };
    let err = spec.forward(1, &[0.0; 4], &mut []).unwrap_err();
    assert_eq!(
        err.to_string(),
        "max_pooling2d: window 3x3 is larger than its 2x2 input with `valid` padding"
    );
}

#[test]
fn max_pool_many_channels_crosses_channel_blocks() {
    run(PoolKind::Max, 1, 4, 4, 70, (2, 2), (2, 2), Padding::Valid);
}

#[test]
fn max_pool_row_wise_path_stride_2_1_valid() {
    run(PoolKind::Max, 2, 7, 6, 3, (3, 3), (2, 1), Padding::Valid);
}

#[test]
fn max_pool_row_wise_path_2x3_stride1_same() {
    run(PoolKind::Max, 2, 5, 6, 4, (2, 3), (1, 1), Padding::Same);
}

#[test]
fn global_max_pool_forward_and_gradient() {
    let (b, h, w, c) = (3, 4, 5, 6);
    let spec = GlobalMaxPool2d { h, w, channels: c };
    let x = distinct_vec(&mut rng(31), b * h * w * c);
    let mut y = vec![0.0; b * c];
    spec.forward(b, &x, &mut y).unwrap();
    let mut expected = Vec::new();
    for n in 0..b {
        for ch in 0..c {
            let column = (0..h * w).map(|p| x[(n * h * w + p) * c + ch]);
            expected.push(column.fold(f32::NEG_INFINITY, f32::max));
        }
    }
    assert_close("global max forward", &y, &expected, 0.0);

    let r = random_vec(&mut rng(32), y.len());
    let mut dx = vec![0.0; x.len()];
    spec.backward(b, &x, &y, &r, &mut dx).unwrap();
    let mut out = vec![0.0; y.len()];
    check_gradient("global max dx", &x, &dx, |p| {
        spec.forward(b, p, &mut out).unwrap();
        dot(&out, &r)
    });
}

#[test]
fn global_max_pool_ties_go_to_the_first_pixel_and_nan_propagates() {
    let spec = GlobalMaxPool2d {
        h: 2,
        w: 2,
        channels: 2,
    };
    // Channel 0: 1.0 at pixels 1 and 3 (a tie); channel 1: a NaN at pixel 2.
    let x = [0.5, 0.0, 1.0, -1.0, 0.2, f32::NAN, 1.0, 3.0];
    let mut y = [0.0; 2];
    spec.forward(1, &x, &mut y).unwrap();
    assert_eq!(y[0], 1.0);
    assert!(y[1].is_nan(), "a NaN input is the channel's maximum: {y:?}");
    let mut dx = [0.0; 8];
    spec.backward(1, &x, &y, &[2.0, 5.0], &mut dx).unwrap();
    assert_eq!(dx, [0.0, 0.0, 2.0, 0.0, 0.0, 5.0, 0.0, 0.0]);
    let err = spec.forward(1, &x[..6], &mut y).unwrap_err();
    assert_eq!(
        err.to_string(),
        "global_max_pooling2d: buffer `x` has 6 elements, expected 8"
    );
}

/// Max pooling forward on each of its three paths against the direct
/// reference: the separable one (the input row fits on the stack), and for
/// input rows longer than that, the row-wise one (stride 1) and the
/// cell-by-cell one (stride 2). Then the same input with NaNs: a window
/// holding a NaN gives NaN on every path.
#[test]
fn max_pool_paths_match_the_reference_and_propagate_nan() {
    let cases = [
        (2, 7, 9, 5, (3, 3), (2, 2), Padding::Same),
        (2, 6, 7, 3, (3, 3), (1, 1), Padding::Same),
        // 2050 x 4 floats per input row: past the separable limit.
        (1, 4, 2050, 4, (3, 3), (1, 1), Padding::Valid),
        (1, 4, 2051, 4, (3, 3), (2, 2), Padding::Same),
    ];
    for (b, h, w, c, k, s, pad) in cases {
        let spec = Pool2d {
            kind: PoolKind::Max,
            window: Window2d {
                in_h: h,
                in_w: w,
                kernel_h: k.0,
                kernel_w: k.1,
                stride_h: s.0,
                stride_w: s.1,
                padding: pad,
            },
            channels: c,
        };
        let mut x = random_vec(&mut rng(23), b * spec.in_len());
        let mut y = vec![0.0; b * spec.out_len()];
        spec.forward(b, &x, &mut y).unwrap();
        let expected = reference(PoolKind::Max, b, h, w, c, k, s, pad, &x);
        assert_eq!(y, expected, "{h}x{w}x{c}, strides {s:?}");

        for at in [0, x.len() / 2 + 1, x.len() - 1] {
            x[at] = f32::NAN;
        }
        spec.forward(b, &x, &mut y).unwrap();
        // The reference's f32::max skips NaN: with +inf in their place, the
        // windows that hold one are those whose maximum is +inf.
        let as_inf: Vec<f32> = x
            .iter()
            .map(|&v| if v.is_nan() { f32::INFINITY } else { v })
            .collect();
        let expected = reference(PoolKind::Max, b, h, w, c, k, s, pad, &as_inf);
        assert!(expected.contains(&f32::INFINITY), "a NaN reaches the output");
        for (got, want) in y.iter().zip(&expected) {
            if *want == f32::INFINITY {
                assert!(got.is_nan(), "NaN lost, {h}x{w}x{c}, strides {s:?}");
            } else {
                assert_eq!(got, want, "{h}x{w}x{c}, strides {s:?}");
            }
        }
    }
}

/// `conv2d_then_pool` (a convolution and its pooling a group of images at
/// a time) equals the two kernels over the whole batch bit for bit, on
/// every micro-kernel path (1 thread) and with 2 threads, for batches below, at
/// and past a group; a pooling that does not fit the convolution is an
/// error naming both sizes.
#[test]
fn convolution_then_pooling_in_groups_equals_the_two_kernels() {
    use nn_runtime::conv_pool::conv2d_then_pool;
    use nn_runtime::gather::{self, Path};
    use nn_runtime::{threads, Activation, Conv2d, Workspace};
    let conv = Conv2d {
        window: Window2d {
            in_h: 9,
            in_w: 7,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 1,
            padding: Padding::Same,
        },
        in_channels: 3,
        filters: 5,
        activation: Activation::Relu,
    };
    let pool = Pool2d {
        kind: PoolKind::Max,
        window: Window2d {
            in_h: 9,
            in_w: 7,
            kernel_h: 3,
            kernel_w: 3,
            stride_h: 2,
            stride_w: 2,
            padding: Padding::Same,
        },
        channels: 5,
    };
    let mut rng = rng(41);
    let kernel = random_vec(&mut rng, conv.kernel_len());
    let bias = random_vec(&mut rng, conv.filters);
    let mut ws = Workspace::new();
    // A forced path holds on the calling thread only, so the paths run
    // with 1 thread, and 2 threads on the detected path.
    let runs = [
        (1, Some(Path::Portable)),
        (1, Some(Path::Avx2)),
        (1, Some(Path::Avx512)),
        (2, None),
    ];
    for (count, path) in runs {
        if path.is_some_and(|p| !gather::supported(p)) {
            continue;
        }
        threads::set(count);
        gather::force(path);
        {
            for batch in [1, 2, 5, 9] {
                let x = random_vec(&mut rng, batch * conv.in_len());
                let mut z = vec![0.0; batch * conv.out_len()];
                conv.forward(batch, &x, &kernel, Some(&bias), &mut z, &mut ws)
                    .unwrap();
                let mut expected = vec![0.0; batch * pool.out_len()];
                pool.forward(batch, &z, &mut expected).unwrap();
                let mut y = vec![f32::NAN; expected.len()];
                conv2d_then_pool(&conv, &pool, batch, &x, &kernel, Some(&bias), &mut y, &mut ws).unwrap();
                let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
                assert_eq!(
                    bits(&y),
                    bits(&expected),
                    "batch {batch}, {count} threads, {path:?}"
                );
            }
        }
    }
    gather::force(None);
    threads::set(1);
    let narrow = Pool2d { channels: 4, ..pool };
    let x = vec![0.0; conv.in_len()];
    let mut y = vec![0.0; narrow.out_len()];
    let err = conv2d_then_pool(&conv, &narrow, 1, &x, &kernel, None, &mut y, &mut ws).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("252") && message.contains("315"), "{message}");
}
