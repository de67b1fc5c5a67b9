//! Conv2d: forward against a direct seven-loop reference, every gradient
//! against central finite differences, across strides, paddings, odd/even
//! sizes, 1x1, asymmetric kernels and batch sizes.

mod common;

use common::*;
use nn_runtime::gather::{self, Path};
use nn_runtime::threads;
use nn_runtime::{activation, Activation, BatchNorm, BatchNormParams, Conv2d, Padding, Window2d, Workspace};

#[derive(Clone, Copy)]
struct Case {
    batch: usize,
    h: usize,
    w: usize,
    cin: usize,
    cout: usize,
    k: (usize, usize),
    s: (usize, usize),
    padding: Padding,
}

impl Case {
    fn spec(&self, activation: Activation) -> Conv2d {
        Conv2d {
            window: Window2d {
                in_h: self.h,
                in_w: self.w,
                kernel_h: self.k.0,
                kernel_w: self.k.1,
                stride_h: self.s.0,
                stride_w: self.s.1,
                padding: self.padding,
            },
            in_channels: self.cin,
            filters: self.cout,
            activation,
        }
    }
}

/// Written from the TensorFlow definition, independently of `window.rs`.
fn reference_forward(c: &Case, x: &[f32], kernel: &[f32], bias: &[f32]) -> (usize, usize, Vec<f32>) {
    let (oh, ow, pt, pl) = match c.padding {
        Padding::Valid => ((c.h - c.k.0) / c.s.0 + 1, (c.w - c.k.1) / c.s.1 + 1, 0, 0),
        Padding::Same => {
            let oh = c.h.div_ceil(c.s.0);
            let ow = c.w.div_ceil(c.s.1);
            let ph = ((oh - 1) * c.s.0 + c.k.0).saturating_sub(c.h);
            let pw = ((ow - 1) * c.s.1 + c.k.1).saturating_sub(c.w);
            (oh, ow, ph / 2, pw / 2)
        }
    };
    let mut y = vec![0.0f32; c.batch * oh * ow * c.cout];
    for n in 0..c.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for co in 0..c.cout {
                    let mut acc = bias[co] as f64;
                    for ky in 0..c.k.0 {
                        for kx in 0..c.k.1 {
                            let iy = (oy * c.s.0 + ky) as isize - pt as isize;
                            let ix = (ox * c.s.1 + kx) as isize - pl as isize;
                            if iy < 0 || ix < 0 || iy >= c.h as isize || ix >= c.w as isize {
                                continue;
                            }
                            for ci in 0..c.cin {
                                let xv = x[((n * c.h + iy as usize) * c.w + ix as usize) * c.cin + ci];
                                let kv = kernel[((ky * c.k.1 + kx) * c.cin + ci) * c.cout + co];
                                acc += xv as f64 * kv as f64;
                            }
                        }
                    }
                    y[((n * oh + oy) * ow + ox) * c.cout + co] = acc as f32;
                }
            }
        }
    }
    (oh, ow, y)
}

/// Every case runs on every micro-kernel path this CPU supports, and with
/// the batch spread over two threads.
fn run(c: Case) {
    for path in [Path::Portable, Path::Avx2, Path::Avx512] {
        if gather::supported(path) {
            gather::force(Some(path));
            assert_eq!(gather::active(), path);
            run_on_active_path(&c);
        }
    }
    gather::force(None);
    threads::set(2);
    run_on_active_path(&c);
    threads::set(1);
}

fn run_on_active_path(c: &Case) {
    let c = *c;
    let mut rng = rng(7);
    let spec = c.spec(Activation::Linear);
    let x = random_vec(&mut rng, c.batch * spec.in_len());
    let kernel = random_vec(&mut rng, spec.kernel_len());
    let bias = random_vec(&mut rng, c.cout);
    let mut ws = Workspace::new();

    // Forward against the reference.
    let (oh, ow, expected) = reference_forward(&c, &x, &kernel, &bias);
    assert_eq!((spec.out_h(), spec.out_w()), (oh, ow), "output size");
    let mut y = vec![f32::NAN; c.batch * spec.out_len()];
    spec.forward(c.batch, &x, &kernel, Some(&bias), &mut y, &mut ws)
        .unwrap();
    assert_close("conv2d forward", &y, &expected, 1e-4);

    // The fused residual form: relu(conv + bias + residual) in one pass.
    let residual = random_vec(&mut rng, y.len());
    let mut fused = vec![f32::NAN; y.len()];
    spec.forward_fused(
        c.batch,
        &x,
        &kernel,
        Some(&bias),
        Some(&residual),
        Activation::Relu,
        &mut fused,
        &mut ws,
    )
    .unwrap();
    let composed: Vec<f32> = y.iter().zip(&residual).map(|(a, b)| (a + b).max(0.0)).collect();
    assert_close("conv2d fused residual forward", &fused, &composed, 1e-5);

    // Strided output (a concatenation's channels): the same values at every
    // `ldy`-th row, the other columns untouched; backward from strided
    // gradients equals the dense backward below.
    let ldy = c.cout + 3;
    let rows = c.batch * spec.out_h() * spec.out_w();
    let mut wide = vec![7.0f32; rows * ldy];
    spec.forward_into(
        c.batch,
        &x,
        &kernel,
        Some(&bias),
        None,
        Activation::Linear,
        &mut wide[1..],
        ldy,
        &mut ws,
    )
    .unwrap();
    for row in 0..rows {
        assert_close(
            "strided forward",
            &wide[row * ldy + 1..row * ldy + 1 + c.cout],
            &y[row * c.cout..(row + 1) * c.cout],
            1e-6,
        );
        assert_eq!(wide[row * ldy], 7.0, "column before the convolution's untouched");
        assert!(
            wide[row * ldy + 1 + c.cout..(row + 1) * ldy]
                .iter()
                .all(|&v| v == 7.0),
            "columns after untouched"
        );
    }
    let r_wide = {
        let r = random_vec(&mut common::rng(99), y.len());
        let mut buf = vec![0.0f32; rows * ldy];
        for row in 0..rows {
            buf[row * ldy + 1..row * ldy + 1 + c.cout].copy_from_slice(&r[row * c.cout..(row + 1) * c.cout]);
        }
        (r, buf)
    };
    let (r_dense, mut dy_wide) = r_wide;
    let (mut dk_s, mut db_s, mut dx_s) = (vec![0.0; kernel.len()], vec![0.0; c.cout], vec![0.0; x.len()]);
    spec.backward_from(
        c.batch,
        &x,
        &kernel,
        &wide[1..],
        &mut dy_wide[1..],
        ldy,
        &mut dk_s,
        Some(&mut db_s),
        Some(&mut dx_s),
        &mut ws,
    )
    .unwrap();
    let mut dy_dense = r_dense.clone();
    let (mut dk_d, mut db_d, mut dx_d) = (vec![0.0; kernel.len()], vec![0.0; c.cout], vec![0.0; x.len()]);
    spec.backward(
        c.batch,
        &x,
        &kernel,
        &y,
        &mut dy_dense,
        &mut dk_d,
        Some(&mut db_d),
        Some(&mut dx_d),
        &mut ws,
    )
    .unwrap();
    assert_close("strided dkernel", &dk_s, &dk_d, 1e-4);
    assert_close("strided dbias", &db_s, &db_d, 1e-4);
    assert_close("strided dx", &dx_s, &dx_d, 1e-4);

    // Backward with loss = Σ y·r, so dy = r.
    let r = random_vec(&mut rng, y.len());
    let mut dy = r.clone();
    let mut dk = vec![0.0; kernel.len()];
    let mut db = vec![0.0; c.cout];
    let mut dx = vec![0.0; x.len()];
    spec.backward(
        c.batch,
        &x,
        &kernel,
        &y,
        &mut dy,
        &mut dk,
        Some(&mut db),
        Some(&mut dx),
        &mut ws,
    )
    .unwrap();

    let mut out = vec![0.0; y.len()];
    let mut ws2 = Workspace::new();
    let mut loss = |x: &[f32], k: &[f32], b: &[f32]| {
        spec.forward(c.batch, x, k, Some(b), &mut out, &mut ws2).unwrap();
        dot(&out, &r)
    };
    check_gradient("conv2d dx", &x, &dx, |p| loss(p, &kernel, &bias));
    check_dx_write_modes(&c, &x, &kernel, &y, &r, &dx);
    check_gradient("conv2d dkernel", &kernel, &dk, |p| loss(&x, p, &bias));
    check_gradient("conv2d dbias", &bias, &db, |p| loss(&x, &kernel, p));

    // Fused activation == linear conv followed by the standalone activation,
    // forward and backward.
    for act in [Activation::Relu, Activation::Tanh] {
        let fused = c.spec(act);
        let mut yf = vec![0.0; y.len()];
        fused
            .forward(c.batch, &x, &kernel, Some(&bias), &mut yf, &mut ws)
            .unwrap();
        let mut ya = vec![0.0; y.len()];
        activation::forward(act, &y, &mut ya, c.cout).unwrap();
        assert_close("fused activation forward", &yf, &ya, 1e-5);

        let mut dyf = r.clone();
        let (mut dkf, mut dbf, mut dxf) = (vec![0.0; kernel.len()], vec![0.0; c.cout], vec![0.0; x.len()]);
        fused
            .backward(
                c.batch,
                &x,
                &kernel,
                &yf,
                &mut dyf,
                &mut dkf,
                Some(&mut dbf),
                Some(&mut dxf),
                &mut ws,
            )
            .unwrap();
        let mut dz = vec![0.0; y.len()];
        activation::backward(act, &ya, &r, &mut dz, c.cout).unwrap();
        let (mut dkl, mut dbl, mut dxl) = (vec![0.0; kernel.len()], vec![0.0; c.cout], vec![0.0; x.len()]);
        spec.backward(
            c.batch,
            &x,
            &kernel,
            &y,
            &mut dz,
            &mut dkl,
            Some(&mut dbl),
            Some(&mut dxl),
            &mut ws,
        )
        .unwrap();
        assert_close("fused activation dkernel", &dkf, &dkl, 1e-4);
        assert_close("fused activation dbias", &dbf, &dbl, 1e-4);
        assert_close("fused activation dx", &dxf, &dxl, 1e-4);
    }
}

/// `backward_with`'s input gradient: `Overwrite` ignores what `dx` held
/// (garbage here) and gives the accumulated-from-zero result; `Accumulate`
/// adds to what it held. With and without the kernel gradient (a frozen
/// layer), with the direct kernel and, where it applies, both Winograd
/// tiles (whose input gradient accumulates, so the flag zeroes first).
fn check_dx_write_modes(c: &Case, x: &[f32], kernel: &[f32], y: &[f32], r: &[f32], dx_from_zero: &[f32]) {
    use nn_runtime::conv_algorithm::{force, Choice};
    use nn_runtime::winograd::Tile;
    use nn_runtime::GradWrite;
    let spec = c.spec(Activation::Linear);
    let mut ws = Workspace::new();
    let base = random_vec(&mut rng(31), x.len());
    let choices = [
        Choice::Direct,
        Choice::Winograd(Tile::F2),
        Choice::Winograd(Tile::F4),
    ];
    for choice in choices {
        force(Some(choice));
        for with_kernel_grad in [true, false] {
            let mut dk = vec![0.0; kernel.len()];
            let dk = with_kernel_grad.then_some(&mut dk[..]);
            let mut dy = r.to_vec();
            let mut dx = vec![f32::NAN; x.len()];
            spec.backward_with(
                c.batch,
                x,
                kernel,
                y,
                &mut dy,
                c.cout,
                dk,
                None,
                Some(&mut dx),
                GradWrite::Overwrite,
                &mut ws,
            )
            .unwrap();
            assert_close("conv2d overwritten dx", &dx, dx_from_zero, 1e-4);

            let mut dy = r.to_vec();
            let mut dx = base.clone();
            spec.backward_with(
                c.batch,
                x,
                kernel,
                y,
                &mut dy,
                c.cout,
                None,
                None,
                Some(&mut dx),
                GradWrite::Accumulate,
                &mut ws,
            )
            .unwrap();
            let expected: Vec<f32> = base.iter().zip(dx_from_zero).map(|(a, b)| a + b).collect();
            assert_close("conv2d accumulated dx", &dx, &expected, 1e-4);
        }
    }
    force(None);
}

macro_rules! conv_case {
    ($name:ident: batch $b:literal, in $h:literal x $w:literal x $ci:literal -> $co:literal,
     kernel $kh:literal x $kw:literal, strides ($sh:literal, $sw:literal), $pad:ident) => {
        #[test]
        fn $name() {
            run(Case {
                batch: $b,
                h: $h,
                w: $w,
                cin: $ci,
                cout: $co,
                k: ($kh, $kw),
                s: ($sh, $sw),
                padding: Padding::$pad,
            });
        }
    };
}

conv_case!(conv2d_3x3_stride1_same_batch1: batch 1, in 6 x 6 x 3 -> 4, kernel 3 x 3, strides (1, 1), Same);
conv_case!(conv2d_3x3_stride1_same_batch3: batch 3, in 5 x 7 x 2 -> 3, kernel 3 x 3, strides (1, 1), Same);
conv_case!(conv2d_3x3_stride1_valid: batch 2, in 6 x 5 x 3 -> 2, kernel 3 x 3, strides (1, 1), Valid);
conv_case!(conv2d_3x3_stride2_same_even_input: batch 2, in 6 x 6 x 2 -> 3, kernel 3 x 3, strides (2, 2), Same);
conv_case!(conv2d_3x3_stride2_same_odd_input: batch 2, in 7 x 5 x 2 -> 3, kernel 3 x 3, strides (2, 2), Same);
conv_case!(conv2d_3x3_stride2_valid_odd_input: batch 2, in 7 x 7 x 3 -> 2, kernel 3 x 3, strides (2, 2), Valid);
conv_case!(conv2d_2x2_stride1_same_even_kernel: batch 2, in 5 x 4 x 2 -> 3, kernel 2 x 2, strides (1, 1), Same);
conv_case!(conv2d_5x5_stride1_same: batch 2, in 6 x 6 x 2 -> 3, kernel 5 x 5, strides (1, 1), Same);
conv_case!(conv2d_5x5_stride1_valid_exact_fit: batch 1, in 5 x 5 x 2 -> 2, kernel 5 x 5, strides (1, 1), Valid);
conv_case!(conv2d_1x1_stride1_pointwise: batch 3, in 4 x 5 x 6 -> 4, kernel 1 x 1, strides (1, 1), Valid);
conv_case!(conv2d_1x1_stride1_same_pointwise: batch 1, in 3 x 3 x 4 -> 5, kernel 1 x 1, strides (1, 1), Same);
conv_case!(conv2d_1x1_stride2_projection: batch 2, in 6 x 5 x 4 -> 3, kernel 1 x 1, strides (2, 2), Same);
conv_case!(conv2d_1x7_asymmetric_same: batch 2, in 4 x 9 x 2 -> 3, kernel 1 x 7, strides (1, 1), Same);
conv_case!(conv2d_7x1_asymmetric_valid: batch 1, in 9 x 4 x 2 -> 2, kernel 7 x 1, strides (1, 1), Valid);
conv_case!(conv2d_3x2_asymmetric_strides_2_1: batch 2, in 7 x 6 x 2 -> 3, kernel 3 x 2, strides (2, 1), Same);
// More filters than one packed kernel panel (32): two full panels and a partial one.
conv_case!(conv2d_3x3_filters_in_three_panels: batch 3, in 5 x 4 x 3 -> 70, kernel 3 x 3, strides (1, 1), Same);
conv_case!(conv2d_1x1_stride2_filters_in_two_panels: batch 2, in 5 x 6 x 5 -> 33, kernel 1 x 1, strides (2, 2), Valid);
// Input gradients whose kernel operand is packed: more than 32 input
// channels (stride 1, flipped kernel) and a strided patch of 36 values.
conv_case!(conv2d_3x3_input_gradient_in_two_panels: batch 2, in 4 x 3 x 35 -> 4, kernel 3 x 3, strides (1, 1), Same);
conv_case!(conv2d_3x3_stride2_patch_in_two_panels: batch 2, in 5 x 6 x 4 -> 3, kernel 3 x 3, strides (2, 2), Same);
// Odd panel edges and channel counts around the 8-lane input-gradient
// switch: exactly two panels, one column past two, one past one, a
// 2048-wide 1x1, and 1, 2, 7, 8, 9 input channels (batch 1 also runs on 2
// threads, splitting one image's pixels).
conv_case!(conv2d_3x3_one_channel_two_full_panels: batch 1, in 5 x 5 x 1 -> 64, kernel 3 x 3, strides (1, 1), Same);
conv_case!(conv2d_3x3_valid_seven_channels_65_filters: batch 2, in 5 x 6 x 7 -> 65, kernel 3 x 3, strides (1, 1), Valid);
conv_case!(conv2d_3x3_stride2_eight_channels_33_filters: batch 1, in 6 x 5 x 8 -> 33, kernel 3 x 3, strides (2, 2), Same);
conv_case!(conv2d_3x3_nine_channels_40_filters: batch 1, in 4 x 4 x 9 -> 40, kernel 3 x 3, strides (1, 1), Same);
conv_case!(conv2d_2x2_even_kernel_two_channels_34_filters: batch 2, in 4 x 5 x 2 -> 34, kernel 2 x 2, strides (1, 1), Same);
conv_case!(conv2d_1x1_2048_filters: batch 1, in 2 x 2 x 2 -> 2048, kernel 1 x 1, strides (1, 1), Valid);
conv_case!(conv2d_kernel_larger_than_input_same: batch 1, in 2 x 3 x 2 -> 2, kernel 5 x 5, strides (1, 1), Same);

#[test]
fn conv2d_rejects_wrong_buffer_lengths_and_bad_geometry() {
    let c = Case {
        batch: 2,
        h: 5,
        w: 5,
        cin: 2,
        cout: 3,
        k: (3, 3),
        s: (1, 1),
        padding: Padding::Valid,
    };
    let spec = c.spec(Activation::Linear);
    let mut ws = Workspace::new();
    let x = vec![0.0; 2 * spec.in_len()];
    let k = vec![0.0; spec.kernel_len()];
    let mut y = vec![0.0; 2 * spec.out_len()];
    let err = spec.forward(2, &x[1..], &k, None, &mut y, &mut ws).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d: buffer `x` has 99 elements, expected 100"
    );
    let err = spec.forward(2, &x, &k[1..], None, &mut y, &mut ws).unwrap_err();
    assert!(err.to_string().contains("`kernel`"), "{err}");
    let err = spec.forward(0, &[], &k, None, &mut [], &mut ws).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d: batch is zero; every size must be at least 1"
    );

    let too_big = Case { h: 2, w: 2, ..c }.spec(Activation::Linear);
    let err = too_big
        .forward(1, &[0.0; 8], &k, None, &mut [], &mut ws)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d: window 3x3 is larger than its 2x2 input with `valid` padding"
    );

    let zero_stride = Case {
        s: (0, 1),
        ..Case {
            batch: 1,
            h: 5,
            w: 5,
            cin: 2,
            cout: 3,
            k: (3, 3),
            s: (1, 1),
            padding: Padding::Same,
        }
    }
    .spec(Activation::Linear);
    let err = zero_stride
        .forward(1, &[0.0; 50], &k, None, &mut [0.0; 75], &mut ws)
        .unwrap_err();
    assert!(err.to_string().contains("vertical stride is zero"), "{err}");
}

fn bn_params<'a>(
    gamma: Option<&'a [f32]>,
    beta: Option<&'a [f32]>,
    moving_mean: &'a mut [f32],
    moving_variance: &'a mut [f32],
) -> BatchNormParams<'a> {
    BatchNormParams {
        gamma,
        beta,
        moving_mean,
        moving_variance,
    }
}

/// Largest difference relative to the largest expected magnitude.
fn relative_gap(actual: &[f32], expected: &[f64]) -> f64 {
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let gap = actual
        .iter()
        .zip(expected)
        .fold(0.0f64, |m, (&a, e)| m.max((a as f64 - e).abs()));
    gap / scale
}

/// A convolution with an inference batch normalization folded into its
/// weights, on every micro-kernel path and on 2 threads, against the same
/// convolution followed by `BatchNorm::forward_infer` and against an f64
/// reference; with and without gamma, beta and the convolution's bias.
#[test]
fn conv2d_with_a_folded_batch_norm_matches_conv_then_batch_norm() {
    let cases = [
        Case {
            batch: 3,
            h: 7,
            w: 5,
            cin: 3,
            cout: 5,
            k: (3, 3),
            s: (1, 1),
            padding: Padding::Same,
        },
        Case {
            batch: 2,
            h: 6,
            w: 7,
            cin: 6,
            cout: 37,
            k: (1, 1),
            s: (2, 2),
            padding: Padding::Valid,
        },
        Case {
            batch: 1,
            h: 9,
            w: 9,
            cin: 3,
            cout: 70,
            k: (7, 7),
            s: (2, 2),
            padding: Padding::Valid,
        },
    ];
    let mut worst = [0.0f64; 2];
    for (i, c) in cases.iter().enumerate() {
        let mut rng = rng(20 + i as u64);
        let spec = c.spec(Activation::Linear);
        let x = random_vec(&mut rng, c.batch * spec.in_len());
        let kernel = random_vec(&mut rng, spec.kernel_len());
        let bias = random_vec(&mut rng, c.cout);
        let gamma: Vec<f32> = random_vec(&mut rng, c.cout).iter().map(|v| v * 3.0).collect();
        let beta = random_vec(&mut rng, c.cout);
        let mean = random_vec(&mut rng, c.cout);
        let variance: Vec<f32> = random_vec(&mut rng, c.cout).iter().map(|v| v + 0.6).collect();
        let norm = BatchNorm {
            channels: c.cout,
            momentum: 0.99,
            epsilon: 1.001e-5,
        };
        for (with_gamma, with_beta, with_bias) in
            [(true, true, true), (false, true, false), (true, false, true)]
        {
            let gamma = with_gamma.then_some(&gamma[..]);
            let beta = with_beta.then_some(&beta[..]);
            let bias = with_bias.then_some(&bias[..]);
            let (mut mm, mut mv) = (mean.clone(), variance.clone());
            let zero_bias = vec![0.0; c.cout];
            let (_, _, conv) = reference_forward(c, &x, &kernel, bias.unwrap_or(&zero_bias));
            let expected: Vec<f64> = conv
                .iter()
                .enumerate()
                .map(|(i, &z)| {
                    let ch = i % c.cout;
                    let s = gamma.map_or(1.0, |g| g[ch] as f64) / (variance[ch] as f64 + 1.001e-5).sqrt();
                    (z as f64 - mean[ch] as f64) * s + beta.map_or(0.0, |b| b[ch] as f64)
                })
                .collect();
            let mut ws = Workspace::new();
            let mut z = vec![0.0; expected.len()];
            spec.forward(c.batch, &x, &kernel, bias, &mut z, &mut ws).unwrap();
            let mut unfused = vec![f32::NAN; z.len()];
            norm.forward_infer(
                z.len() / c.cout,
                &z,
                bn_params(gamma, beta, &mut mm, &mut mv),
                &mut unfused,
            )
            .unwrap();
            let mut runs = Vec::new();
            for path in [Path::Portable, Path::Avx2, Path::Avx512] {
                if gather::supported(path) {
                    gather::force(Some(path));
                    runs.push((format!("{path:?}"), 1));
                }
            }
            runs.push(("detected".into(), 2));
            for (label, threads_n) in runs {
                if threads_n == 2 {
                    gather::force(None);
                }
                threads::set(threads_n);
                let mut folded = vec![f32::NAN; z.len()];
                spec.forward_batch_norm(
                    c.batch,
                    &x,
                    &kernel,
                    bias,
                    &norm,
                    bn_params(gamma, beta, &mut mm, &mut mv),
                    &mut folded,
                    &mut ws,
                )
                .unwrap();
                let unfused_f64: Vec<f64> = unfused.iter().map(|&v| v as f64).collect();
                let (to_unfused, to_f64) = (
                    relative_gap(&folded, &unfused_f64),
                    relative_gap(&folded, &expected),
                );
                worst = [worst[0].max(to_unfused), worst[1].max(to_f64)];
                assert!(
                    to_unfused < 1e-5,
                    "case {i} {label}: {to_unfused:e} from the unfused path"
                );
                assert!(to_f64 < 1e-5, "case {i} {label}: {to_f64:e} from f64");
            }
            threads::set(1);
            gather::force(None);
            assert_eq!(
                (mm.as_slice(), mv.as_slice()),
                (mean.as_slice(), variance.as_slice()),
                "statistics untouched"
            );
        }
    }
    eprintln!(
        "folded batch norm: worst gap {:.2e} to the unfused path, {:.2e} to f64",
        worst[0], worst[1]
    );

    let spec = cases[0].spec(Activation::Linear);
    let (mut mm, mut mv) = (vec![0.0; 4], vec![1.0; 4]);
    let params = BatchNormParams {
        gamma: None,
        beta: None,
        moving_mean: &mut mm,
        moving_variance: &mut mv,
    };
    let err = spec
        .forward_batch_norm(
            1,
            &[0.0; 105],
            &vec![0.0; spec.kernel_len()],
            None,
            &BatchNorm::keras(4),
            params,
            &mut [0.0; 175],
            &mut Workspace::new(),
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("batch normalization over 4 channels after a convolution with 5 filters"),
        "{err}"
    );
}

/// Non-finite values through the fold: a NaN and an infinite input value,
/// and statistics a hostile file could hold (an infinite variance, so a zero
/// scale; a NaN variance; an infinite mean; a zero gamma). Folding turns no
/// NaN into a number and no number into a NaN: every output is NaN, infinite
/// or finite exactly where convolution-then-normalization's is, and the
/// finite ones agree.
#[test]
fn conv2d_folded_batch_norm_keeps_non_finite_values_where_they_were() {
    let c = Case {
        batch: 2,
        h: 6,
        w: 5,
        cin: 4,
        cout: 40,
        k: (3, 3),
        s: (1, 1),
        padding: Padding::Same,
    };
    let spec = c.spec(Activation::Linear);
    let mut rng = rng(61);
    let mut x = random_vec(&mut rng, c.batch * spec.in_len());
    x[(2 * 5 + 1) * 4 + 2] = f32::NAN;
    x[spec.in_len() + (4 * 5 + 3) * 4 + 1] = f32::INFINITY;
    let kernel = random_vec(&mut rng, spec.kernel_len());
    let bias = random_vec(&mut rng, c.cout);
    let mut gamma: Vec<f32> = random_vec(&mut rng, c.cout).iter().map(|v| v * 3.0).collect();
    let beta = random_vec(&mut rng, c.cout);
    let mut mean = random_vec(&mut rng, c.cout);
    let mut variance: Vec<f32> = random_vec(&mut rng, c.cout).iter().map(|v| v + 0.6).collect();
    variance[0] = f32::INFINITY;
    variance[1] = f32::NAN;
    mean[2] = f32::INFINITY;
    mean[33] = f32::NEG_INFINITY;
    gamma[3] = 0.0;
    gamma[35] = 0.0;
    let norm = BatchNorm::keras(c.cout);
    let mut ws = Workspace::new();
    let mut z = vec![0.0; c.batch * spec.out_len()];
    spec.forward(c.batch, &x, &kernel, Some(&bias), &mut z, &mut ws)
        .unwrap();
    let (mut mm, mut mv) = (mean.clone(), variance.clone());
    let mut unfused = vec![0.0; z.len()];
    norm.forward_infer(
        z.len() / c.cout,
        &z,
        bn_params(Some(&gamma), Some(&beta), &mut mm, &mut mv),
        &mut unfused,
    )
    .unwrap();
    for threads_n in [1, 2] {
        threads::set(threads_n);
        let mut folded = vec![0.0; z.len()];
        spec.forward_batch_norm(
            c.batch,
            &x,
            &kernel,
            Some(&bias),
            &norm,
            bn_params(Some(&gamma), Some(&beta), &mut mm, &mut mv),
            &mut folded,
            &mut ws,
        )
        .unwrap();
        for (i, (&a, &e)) in folded.iter().zip(&unfused).enumerate() {
            let what = format!("{threads_n} threads, output {i} (channel {})", i % c.cout);
            assert_eq!(a.is_nan(), e.is_nan(), "{what}: {a} vs {e}");
            assert_eq!(a.is_infinite(), e.is_infinite(), "{what}: {a} vs {e}");
            if a.is_finite() {
                assert!((a - e).abs() <= 1e-4 * (1.0 + e.abs()), "{what}: {a} vs {e}");
            } else if a.is_infinite() {
                assert_eq!(a, e, "{what}");
            }
        }
        assert!(folded.iter().any(|v| v.is_nan()) && folded.iter().any(|v| v.is_infinite()));
    }
    threads::set(1);
}
