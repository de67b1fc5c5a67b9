//! Winograd convolution (F(2x2,3x3), F(4x4,3x3), F(2x2,5x5), F(4x4,5x5))
//! against an independent naive f64 convolution and against the direct
//! kernel: forward, input gradient, kernel gradient and bias gradient, on
//! every micro-kernel path this CPU has and on 1 and 2 threads, over sizes
//! that are not multiples of the tile, 1x1 images, both paddings and channel
//! counts 1, 3, 17 and 64.
//!
//! Tolerances (largest error over the largest reference magnitude, per
//! tensor) follow the transforms' conditioning. F(2x2,3x3) has coefficients
//! 0, ±1, ±1/2: each transformed value is a sum of a few terms of unit
//! weight, so it rounds like direct (largest errors measured here, forward /
//! input / kernel gradient: direct 9.7e-7 / 9.6e-7 / 8.6e-7, F(2x2,3x3)
//! 4.5e-7 / 3.9e-7 / 4.2e-7; bound 1e-5). The others interpolate at 0, ±1,
//! ±2 (F(4x4,5x5) also at ±1/2): the output transform multiplies by up to 8
//! (a row of Aᵀ has absolute sum up to 19 for F(4x4,3x3), 7 for F(2x2,5x5),
//! 19.25 for F(4x4,5x5)) and the kernel transform divides by 24 (90 for
//! F(4x4,5x5)), so terms of different size cancel and the error grows 5-10x
//! (measured: F(4x4,3x3) 7.2e-6 / 7.5e-6 / 4.4e-6, F(2x2,5x5) 3.5e-6 /
//! 3.1e-6 / 7.3e-6, F(4x4,5x5) 8.0e-6 / 5.1e-6 / 8.9e-6, with direct 5x5 at
//! 1.2e-6 / 9.0e-7 / 1.4e-6; bound 5e-5). Bounds leave 5-7x over the
//! measured worst case, for other seeds and instruction sets.
//! `cargo test -p nn-runtime --test winograd -- --nocapture` prints every
//! measured error.

mod common;

use common::*;
use nn_runtime::conv_algorithm::{self, Algorithm, Choice};
use nn_runtime::gather::{self, Path};
use nn_runtime::threads;
use nn_runtime::winograd::Tile;
use nn_runtime::{Activation, Conv2d, Padding, Window2d, Workspace};

#[derive(Clone, Copy, Debug)]
struct Case {
    batch: usize,
    h: usize,
    w: usize,
    cin: usize,
    cout: usize,
    padding: Padding,
    /// Kernel height and width (3 or 5).
    kernel: usize,
}

impl Case {
    fn spec(&self, activation: Activation) -> Conv2d {
        Conv2d {
            window: Window2d {
                in_h: self.h,
                in_w: self.w,
                kernel_h: self.kernel,
                kernel_w: self.kernel,
                stride_h: 1,
                stride_w: 1,
                padding: self.padding,
            },
            in_channels: self.cin,
            filters: self.cout,
            activation,
        }
    }

    /// Output size and top/left padding, from TensorFlow's definition.
    fn geometry(&self) -> (usize, usize, usize, usize) {
        let k = self.kernel;
        match self.padding {
            Padding::Valid => (self.h + 1 - k, self.w + 1 - k, 0, 0),
            // Stride 1, odd kernel: k - 1 pixels of padding, half on each side.
            Padding::Same => (self.h, self.w, (k - 1) / 2, (k - 1) / 2),
        }
    }
}

/// Naive f64 references of the output, the input gradient and the kernel
/// gradient for the loss `Σ y · r`.
struct Reference {
    y: Vec<f64>,
    dx: Vec<f64>,
    dk: Vec<f64>,
    db: Vec<f64>,
}

// Indices written out as in the convolution's definition.
#[allow(clippy::needless_range_loop)]
fn reference(c: &Case, x: &[f32], k: &[f32], b: &[f32], r: &[f32]) -> Reference {
    let (oh, ow, pt, pl) = c.geometry();
    let mut out = Reference {
        y: vec![0.0; c.batch * oh * ow * c.cout],
        dx: vec![0.0; x.len()],
        dk: vec![0.0; k.len()],
        db: vec![0.0; c.cout],
    };
    for n in 0..c.batch {
        for oy in 0..oh {
            for ox in 0..ow {
                for co in 0..c.cout {
                    let at = ((n * oh + oy) * ow + ox) * c.cout + co;
                    let g = r[at] as f64;
                    let mut acc = b[co] as f64;
                    out.db[co] += g;
                    for ky in 0..c.kernel {
                        for kx in 0..c.kernel {
                            let iy = (oy + ky) as isize - pt as isize;
                            let ix = (ox + kx) as isize - pl as isize;
                            if iy < 0 || ix < 0 || iy >= c.h as isize || ix >= c.w as isize {
                                continue;
                            }
                            for ci in 0..c.cin {
                                let xi = ((n * c.h + iy as usize) * c.w + ix as usize) * c.cin + ci;
                                let ki = ((ky * c.kernel + kx) * c.cin + ci) * c.cout + co;
                                acc += x[xi] as f64 * k[ki] as f64;
                                out.dx[xi] += g * k[ki] as f64;
                                out.dk[ki] += g * x[xi] as f64;
                            }
                        }
                    }
                    out.y[at] = acc;
                }
            }
        }
    }
    out
}

/// Largest error over the largest reference magnitude.
fn relative_error(actual: &[f32], reference: &[f64]) -> f64 {
    assert_eq!(actual.len(), reference.len());
    let scale = reference.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-30);
    let worst = actual
        .iter()
        .zip(reference)
        .fold(0.0f64, |m, (&a, &r)| m.max((a as f64 - r).abs()));
    assert!(worst.is_finite(), "non-finite result");
    worst / scale
}

/// See the module comment: the 4-point F(2x2,3x3) rounds like direct; the
/// 6-point transforms (F(4x4,3x3), F(2x2,5x5)) are about 5x worse.
fn tolerance(algorithm: Algorithm, kernel: usize) -> f64 {
    match (algorithm, kernel) {
        (Algorithm::Direct, _) | (Algorithm::Winograd(Tile::F2), 3) => 1e-5,
        (Algorithm::Winograd(_), _) => 5e-5,
    }
}

/// Runs forward and backward with `choice` and checks every result against
/// the f64 reference; returns the results for comparing algorithms.
/// Seeded operands of a case and their f64 reference.
struct Data {
    x: Vec<f32>,
    k: Vec<f32>,
    b: Vec<f32>,
    r: Vec<f32>,
    expected: Reference,
}

fn data(c: &Case) -> Data {
    let spec = c.spec(Activation::Linear);
    let mut rng = rng(c.cin as u64 * 1000 + c.cout as u64 * 10 + c.h as u64);
    let x = random_vec(&mut rng, c.batch * spec.in_len());
    let k = random_vec(&mut rng, spec.kernel_len());
    let b = random_vec(&mut rng, c.cout);
    let r = random_vec(&mut rng, c.batch * spec.out_len());
    let expected = reference(c, &x, &k, &b, &r);
    Data { x, k, b, r, expected }
}

fn check(c: &Case, data: &Data, choice: Choice, algorithm: Algorithm, context: &str) -> [Vec<f32>; 4] {
    let spec = c.spec(Activation::Linear);
    conv_algorithm::force(Some(choice));
    assert_eq!(conv_algorithm::choose(&spec).unwrap(), algorithm, "{context}");
    let Data { x, k, b, r, expected } = data;
    let mut ws = Workspace::new();
    let mut y = vec![f32::NAN; c.batch * spec.out_len()];
    spec.forward(c.batch, x, k, Some(b), &mut y, &mut ws).unwrap();
    let tol = tolerance(algorithm, c.kernel);
    let err = relative_error(&y, &expected.y);
    assert!(err <= tol, "{context}: forward error {err:e} above {tol:e}");
    // Gradients accumulate: start from ones and subtract them after.
    let (mut dk, mut db, mut dx) = (vec![1.0; k.len()], vec![1.0; c.cout], vec![1.0; x.len()]);
    let mut dy = r.to_vec();
    spec.backward(
        c.batch,
        x,
        k,
        &y,
        &mut dy,
        &mut dk,
        Some(&mut db),
        Some(&mut dx),
        &mut ws,
    )
    .unwrap();
    for g in [&mut dk, &mut db, &mut dx] {
        g.iter_mut().for_each(|v| *v -= 1.0);
    }
    let mut errors = format!("forward {err:.1e}");
    for (name, actual, expected) in [
        ("input gradient", &dx, &expected.dx),
        ("kernel gradient", &dk, &expected.dk),
        ("bias gradient", &db, &expected.db),
    ] {
        let err = relative_error(actual, expected);
        assert!(err <= tol, "{context}: {name} error {err:e} above {tol:e}");
        errors += &format!(", {name} {err:.1e}");
    }
    // Seen with --nocapture: the measured errors the tolerances rest on.
    eprintln!("{context}: {errors}");
    conv_algorithm::force(None);
    [y, dx, dk, db]
}

/// Every case on every path the CPU has (1 thread), then on 2 threads; both
/// tiles, with the direct kernel run beside them.
fn run(c: Case) {
    let data = data(&c);
    let algorithms = [
        (Choice::Direct, Algorithm::Direct),
        (Choice::Winograd(Tile::F2), Algorithm::Winograd(Tile::F2)),
        (Choice::Winograd(Tile::F4), Algorithm::Winograd(Tile::F4)),
    ];
    for path in [Path::Portable, Path::Avx2, Path::Avx512] {
        if !gather::supported(path) {
            continue;
        }
        gather::force(Some(path));
        for &(choice, algorithm) in &algorithms {
            check(
                &c,
                &data,
                choice,
                algorithm,
                &format!("{c:?} {path:?} {algorithm:?}"),
            );
        }
    }
    gather::force(None);
    for threads_n in [1, 2] {
        threads::set(threads_n);
        let direct = check(&c, &data, Choice::Direct, Algorithm::Direct, "direct");
        for &(choice, algorithm) in &algorithms[1..] {
            let context = format!("{c:?} {threads_n} threads {algorithm:?}");
            let got = check(&c, &data, choice, algorithm, &context);
            // Against the direct kernel too, within the same bound.
            for (name, a, d) in [("forward", 0), ("dx", 1), ("dkernel", 2), ("dbias", 3)]
                .map(|(name, i)| (name, &got[i], &direct[i]))
            {
                let d64: Vec<f64> = d.iter().map(|&v| v as f64).collect();
                let err = relative_error(a, &d64);
                let tol = tolerance(algorithm, c.kernel);
                assert!(err <= tol, "{context}: {name} differs from direct by {err:e}");
            }
        }
    }
    threads::set(1);
}

fn case(batch: usize, h: usize, w: usize, cin: usize, cout: usize, padding: Padding) -> Case {
    Case {
        batch,
        h,
        w,
        cin,
        cout,
        padding,
        kernel: 3,
    }
}

/// The same case with a 5x5 kernel.
fn five(c: Case) -> Case {
    Case { kernel: 5, ..c }
}

#[test]
fn same_padding_odd_sizes_few_channels() {
    run(case(2, 7, 5, 1, 3, Padding::Same));
    run(case(3, 9, 11, 3, 17, Padding::Same));
}

#[test]
fn same_padding_many_channels() {
    run(case(5, 6, 10, 17, 64, Padding::Same));
    run(case(2, 8, 8, 64, 17, Padding::Same));
}

/// Images with more tiles than one band holds: bands of tile rows.
#[test]
fn large_images_split_into_bands() {
    run(case(2, 24, 28, 64, 64, Padding::Same));
}

#[test]
fn valid_padding() {
    run(case(3, 7, 9, 17, 3, Padding::Valid));
    run(case(2, 10, 6, 64, 64, Padding::Valid));
    // A 1x1 output.
    run(case(4, 3, 3, 3, 17, Padding::Valid));
}

#[test]
fn one_pixel_images() {
    run(case(3, 1, 1, 17, 3, Padding::Same));
    run(case(1, 1, 5, 1, 1, Padding::Same));
    run(case(5, 2, 1, 64, 64, Padding::Same));
}

/// Residual, fused activation and a strided output (a concatenation's
/// channels) take the same Winograd path: compared with direct.
#[test]
fn fused_residual_relu_and_strided_output_match_direct() {
    fused_matches_direct(case(5, 9, 7, 17, 20, Padding::Same));
    fused_matches_direct(five(case(3, 9, 7, 17, 20, Padding::Same)));
}

fn fused_matches_direct(c: Case) {
    let spec = c.spec(Activation::Relu);
    let mut rng = rng(99);
    let x = random_vec(&mut rng, c.batch * spec.in_len());
    let k = random_vec(&mut rng, spec.kernel_len());
    let b = random_vec(&mut rng, c.cout);
    let residual = random_vec(&mut rng, c.batch * spec.out_len());
    let ldy = c.cout + 7;
    let rows = c.batch * spec.out_h() * spec.out_w();
    let results = [
        Choice::Direct,
        Choice::Winograd(Tile::F2),
        Choice::Winograd(Tile::F4),
    ]
    .map(|choice| {
        conv_algorithm::force(Some(choice));
        let mut ws = Workspace::new();
        let mut fused = vec![0.0; c.batch * spec.out_len()];
        spec.forward_fused(
            c.batch,
            &x,
            &k,
            Some(&b),
            Some(&residual),
            Activation::Relu,
            &mut fused,
            &mut ws,
        )
        .unwrap();
        // Strided: the untouched floats between pixels must stay as they were.
        let mut strided = vec![-7.0; (rows - 1) * ldy + c.cout];
        spec.forward_into(
            c.batch,
            &x,
            &k,
            Some(&b),
            None,
            Activation::Relu,
            &mut strided,
            ldy,
            &mut ws,
        )
        .unwrap();
        let mut dy: Vec<f32> = strided.iter().map(|v| v * 0.5 - 0.25).collect();
        let (mut dk, mut db, mut dx) = (vec![0.0; k.len()], vec![0.0; c.cout], vec![0.0; x.len()]);
        spec.backward_from(
            c.batch,
            &x,
            &k,
            &strided,
            &mut dy,
            ldy,
            &mut dk,
            Some(&mut db),
            Some(&mut dx),
            &mut ws,
        )
        .unwrap();
        conv_algorithm::force(None);
        [fused, strided, dy, dk, db, dx]
    });
    let direct = &results[0];
    for (t, got) in results.iter().enumerate().skip(1) {
        for (i, name) in ["fused", "strided", "dy", "dkernel", "dbias", "dx"]
            .iter()
            .enumerate()
        {
            let d64: Vec<f64> = direct[i].iter().map(|&v| v as f64).collect();
            let err = relative_error(&got[i], &d64);
            assert!(
                err <= 5e-5,
                "{c:?} tile {t}: {name} differs from direct by {err:e}"
            );
        }
        for p in 0..rows - 1 {
            assert!(got[1][p * ldy + c.cout..(p + 1) * ldy].iter().all(|&v| v == -7.0));
        }
    }
}

/// F(2x2,5x5) and F(4x4,5x5) (`Tile::F2`, `Tile::F4` on a 5x5 layer) over the same kinds of
/// cases as the 3x3 tiles: odd sizes, 1 to 64 channels, planes smaller than
/// a tile, valid padding down to a 1x1 output, several bands.
#[test]
fn five_by_five_kernels() {
    run(five(case(2, 7, 5, 1, 3, Padding::Same)));
    run(five(case(3, 9, 11, 3, 17, Padding::Same)));
    run(five(case(2, 8, 8, 64, 17, Padding::Same)));
    run(five(case(3, 1, 1, 17, 3, Padding::Same)));
    run(five(case(2, 2, 5, 5, 4, Padding::Same)));
    run(five(case(3, 7, 9, 17, 3, Padding::Valid)));
    run(five(case(2, 5, 5, 3, 17, Padding::Valid)));
    run(five(case(2, 40, 36, 32, 32, Padding::Same)));
}

#[test]
fn cost_rule_and_environment_values() {
    let layer_k = |k, h, cin, cout, stride| Conv2d {
        window: Window2d {
            in_h: h,
            in_w: h,
            kernel_h: k,
            kernel_w: k,
            stride_h: stride,
            stride_w: stride,
            padding: Padding::Same,
        },
        in_channels: cin,
        filters: cout,
        activation: Activation::Relu,
    };
    let layer = |h, cin, cout, stride| layer_k(3, h, cin, cout, stride);
    // Strided layers never use Winograd, even when asked to.
    conv_algorithm::force(Some(Choice::Winograd(Tile::F4)));
    assert_eq!(
        conv_algorithm::choose(&layer(32, 64, 64, 2)).unwrap(),
        Algorithm::Direct
    );
    conv_algorithm::force(Some(Choice::Direct));
    assert_eq!(
        conv_algorithm::choose(&layer(32, 64, 64, 1)).unwrap(),
        Algorithm::Direct
    );
    conv_algorithm::force(Some(Choice::Auto));
    let auto = |h, cin, cout| conv_algorithm::choose(&layer(h, cin, cout, 1)).unwrap();
    // Few channels: the transforms cost more than the products saved.
    assert_eq!(auto(64, 3, 16), Algorithm::Direct);
    assert_eq!(auto(32, 8, 8), Algorithm::Direct);
    assert_eq!(auto(32, 12, 12), Algorithm::Direct);
    // From cin·cout/(cin+cout) = 8: the lecture nets' 16-channel layers.
    assert_eq!(auto(64, 16, 16), Algorithm::Winograd(Tile::F4));
    assert_eq!(auto(64, 16, 32), Algorithm::Winograd(Tile::F4));
    assert_eq!(auto(32, 32, 32), Algorithm::Winograd(Tile::F4));
    assert_eq!(auto(31, 32, 32), Algorithm::Winograd(Tile::F4));
    assert_eq!(auto(28, 128, 128), Algorithm::Winograd(Tile::F4));
    // Planes that F(4x4)'s tiles overhang by a third (0.33x direct's
    // products): F(2x2) where it fits whole and the layer is wide (ResNet-50's
    // 14x14 256-channel layers), else direct (its 7x7 512-channel layers).
    assert_eq!(auto(14, 256, 256), Algorithm::Winograd(Tile::F2));
    assert_eq!(auto(14, 32, 32), Algorithm::Direct);
    assert_eq!(auto(7, 512, 512), Algorithm::Direct);
    // Small planes: a 6x6 plane needs 4 F(4x4) tiles, 0.44x direct's products.
    assert_eq!(auto(6, 64, 64), Algorithm::Direct);
    assert_eq!(auto(1, 64, 64), Algorithm::Direct);
    // 5x5: F(4x4,5x5) from the same ratio (inception's 5x5 layers), not
    // on fewer channels nor on planes whose tiles waste products (a 2x2
    // plane: one 8x8 tile, 64 products against direct's 100).
    let auto5 = |h, cin, cout| conv_algorithm::choose(&layer_k(5, h, cin, cout, 1)).unwrap();
    assert_eq!(auto5(31, 32, 32), Algorithm::Winograd(Tile::F4));
    assert_eq!(auto5(64, 16, 16), Algorithm::Winograd(Tile::F4));
    assert_eq!(auto5(64, 8, 8), Algorithm::Direct);
    assert_eq!(auto5(7, 64, 64), Algorithm::Winograd(Tile::F4));
    assert_eq!(auto5(2, 64, 64), Algorithm::Direct);
    // Other kernel sizes and strided 5x5 stay direct, even when forced.
    assert_eq!(
        conv_algorithm::choose(&layer_k(7, 32, 64, 64, 1)).unwrap(),
        Algorithm::Direct
    );
    assert_eq!(
        conv_algorithm::choose(&layer_k(5, 32, 64, 64, 2)).unwrap(),
        Algorithm::Direct
    );
    conv_algorithm::force(Some(Choice::Winograd(Tile::F2)));
    assert_eq!(
        conv_algorithm::choose(&layer_k(5, 32, 64, 64, 2)).unwrap(),
        Algorithm::Direct
    );
    assert_eq!(
        conv_algorithm::choose(&layer_k(7, 32, 8, 8, 1)).unwrap(),
        Algorithm::Direct
    );
    conv_algorithm::force(Some(Choice::Direct));
    assert_eq!(
        conv_algorithm::choose(&layer_k(5, 31, 32, 32, 1)).unwrap(),
        Algorithm::Direct
    );
    conv_algorithm::force(None);
    assert_eq!(conv_algorithm::parse_env("direct").unwrap(), Choice::Direct);
    // Unset or empty: the cost rule.
    assert_eq!(conv_algorithm::parse_env("").unwrap(), Choice::Auto);
    assert_eq!(conv_algorithm::parse_env("auto").unwrap(), Choice::Auto);
    assert_eq!(
        conv_algorithm::parse_env(" winograd2 ").unwrap(),
        Choice::Winograd(Tile::F2)
    );
    let err = conv_algorithm::parse_env("fast").unwrap_err().to_string();
    assert!(err.contains("NN_CONV") && err.contains("direct"), "{err}");
}

/// A NaN and an infinity in one input pixel each: Winograd (now the
/// default for such layers) gives non-finite outputs exactly where the
/// direct kernel does, i.e. only within the 3x3 neighbourhood of those
/// pixels, not over the whole tile; likewise the input and kernel
/// gradients of a NaN in one output-gradient pixel.
#[test]
fn non_finite_input_pixels_stay_local() {
    let c = case(1, 12, 12, 32, 32, Padding::Same);
    let spec = c.spec(Activation::Linear);
    let mut rng = rng(77);
    let mut x = random_vec(&mut rng, spec.in_len());
    x[(2 * 12 + 2) * 32 + 5] = f32::NAN;
    x[(9 * 12 + 9) * 32 + 7] = f32::INFINITY;
    let k = random_vec(&mut rng, spec.kernel_len());
    // Backward: a NaN in one output-gradient pixel, a finite input.
    let finite_x = random_vec(&mut rng, spec.in_len());
    let mut dy = random_vec(&mut rng, spec.out_len());
    dy[(6 * 12 + 5) * 32 + 3] = f32::NAN;
    let mut outputs = Vec::new();
    for choice in [
        Choice::Direct,
        Choice::Winograd(Tile::F4),
        Choice::Winograd(Tile::F2),
    ] {
        conv_algorithm::force(Some(choice));
        let mut ws = Workspace::new();
        let mut y = vec![0.0; spec.out_len()];
        spec.forward(1, &x, &k, None, &mut y, &mut ws).unwrap();
        let mut dx = vec![0.0; spec.in_len()];
        let mut dk = vec![0.0; spec.kernel_len()];
        let mut y_finite = vec![0.0; spec.out_len()];
        spec.forward(1, &finite_x, &k, None, &mut y_finite, &mut ws)
            .unwrap();
        let mut g = dy.clone();
        spec.backward(
            1,
            &finite_x,
            &k,
            &y_finite,
            &mut g,
            &mut dk,
            None,
            Some(&mut dx),
            &mut ws,
        )
        .unwrap();
        y.extend(dx);
        y.extend(dk);
        outputs.push((choice, y));
    }
    conv_algorithm::force(None);
    let (_, direct) = &outputs[0];
    for (choice, y) in &outputs[1..] {
        for (i, (a, d)) in y.iter().zip(direct).enumerate() {
            assert_eq!(
                a.is_finite(),
                d.is_finite(),
                "{choice:?}: value {i} (output, then dx, then dkernel) is {a}, direct {d}"
            );
        }
    }
}
