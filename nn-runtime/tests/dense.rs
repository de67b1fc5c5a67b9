//! Dense: forward against a naive triple loop, gradients against finite
//! differences, with and without bias, batch 1 and several.

mod common;

use common::*;
use nn_runtime::{Activation, Dense, Workspace};

fn reference(rows: usize, inputs: usize, units: usize, x: &[f32], k: &[f32], b: Option<&[f32]>) -> Vec<f32> {
    let mut y = vec![0.0; rows * units];
    for r in 0..rows {
        for u in 0..units {
            let mut acc = b.map_or(0.0, |b| b[u] as f64);
            for i in 0..inputs {
                acc += x[r * inputs + i] as f64 * k[i * units + u] as f64;
            }
            y[r * units + u] = acc as f32;
        }
    }
    y
}

fn run(rows: usize, inputs: usize, units: usize, with_bias: bool, activation: Activation) {
    let mut rng = rng(11);
    let spec = Dense {
        inputs,
        units,
        activation,
    };
    let x = random_vec(&mut rng, rows * inputs);
    let k = random_vec(&mut rng, inputs * units);
    let b = random_vec(&mut rng, units);
    let bias = with_bias.then_some(&b[..]);
    let mut y = vec![0.0; rows * units];
    spec.forward(rows, &x, &k, bias, &mut y, &mut Workspace::new())
        .unwrap();
    if activation == Activation::Linear {
        assert_close(
            "dense forward",
            &y,
            &reference(rows, inputs, units, &x, &k, bias),
            1e-5,
        );
    }

    let r = random_vec(&mut rng, y.len());
    let mut dy = r.clone();
    let (mut dk, mut db, mut dx) = (vec![0.0; k.len()], vec![0.0; units], vec![0.0; x.len()]);
    spec.backward(
        rows,
        &x,
        &k,
        &y,
        &mut dy,
        &mut dk,
        with_bias.then_some(&mut db[..]),
        Some(&mut dx),
        &mut Workspace::new(),
    )
    .unwrap();
    let mut out = vec![0.0; y.len()];
    let mut loss = |x: &[f32], k: &[f32], b: &[f32]| {
        spec.forward(
            rows,
            x,
            k,
            with_bias.then_some(b),
            &mut out,
            &mut Workspace::new(),
        )
        .unwrap();
        dot(&out, &r)
    };
    check_gradient("dense dx", &x, &dx, |p| loss(p, &k, &b));
    check_gradient("dense dkernel", &k, &dk, |p| loss(&x, p, &b));
    if with_bias {
        check_gradient("dense dbias", &b, &db, |p| loss(&x, &k, p));
    }
}

#[test]
fn dense_linear_with_bias_batch1() {
    run(1, 7, 5, true, Activation::Linear);
}

#[test]
fn dense_linear_with_bias_batch4() {
    run(4, 9, 6, true, Activation::Linear);
}

#[test]
fn dense_linear_without_bias() {
    run(3, 5, 4, false, Activation::Linear);
}

#[test]
fn dense_softmax_fused() {
    run(3, 8, 6, true, Activation::Softmax);
}

#[test]
fn dense_sigmoid_fused() {
    run(2, 5, 3, true, Activation::Sigmoid);
}

#[test]
fn dense_accumulates_gradients_across_calls() {
    // A shared layer runs backward twice; the second call must add to, not
    // overwrite, the first call's gradients.
    let spec = Dense {
        inputs: 3,
        units: 2,
        activation: Activation::Linear,
    };
    let mut rng = rng(3);
    let x = random_vec(&mut rng, 3);
    let k = random_vec(&mut rng, 6);
    let mut y = vec![0.0; 2];
    spec.forward(1, &x, &k, None, &mut y, &mut Workspace::new())
        .unwrap();
    let mut dk = vec![0.0; 6];
    for _ in 0..2 {
        let mut dy = vec![1.0, -1.0];
        spec.backward(1, &x, &k, &y, &mut dy, &mut dk, None, None, &mut Workspace::new())
            .unwrap();
    }
    let once: Vec<f32> = (0..6)
        .map(|i| x[i / 2] * if i % 2 == 0 { 1.0 } else { -1.0 })
        .collect();
    let twice: Vec<f32> = once.iter().map(|v| 2.0 * v).collect();
    assert_close("accumulated dkernel", &dk, &twice, 1e-6);
}

#[test]
fn dense_rejects_mismatched_buffers() {
    let spec = Dense {
        inputs: 3,
        units: 2,
        activation: Activation::Linear,
    };
    let err = spec
        .forward(
            2,
            &[0.0; 5],
            &[0.0; 6],
            None,
            &mut [0.0; 4],
            &mut Workspace::new(),
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "dense: buffer `x` has 5 elements, expected 6");
    let err = spec
        .forward(
            2,
            &[0.0; 6],
            &[0.0; 6],
            Some(&[0.0; 3]),
            &mut [0.0; 4],
            &mut Workspace::new(),
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "dense: buffer `bias` has 3 elements, expected 2");
}

// Sizes whose products wrap around (2^32 x 2^32 = 0 mod 2^64) must not let
// empty slices through to the unchecked sgemm.
#[test]
fn gemm_rejects_sizes_whose_products_overflow() {
    use nn_runtime::gemm::{gemm, Transpose};
    let big = 1usize << 32;
    let err = gemm(
        big,
        big,
        big,
        1.0,
        &[],
        Transpose::No,
        &[],
        Transpose::No,
        0.0,
        &mut [],
    )
    .unwrap_err();
    assert!(err.to_string().contains("overflows"), "{err}");
}

/// Largest error relative to the reference's largest magnitude.
fn relative_error(actual: &[f32], reference: &[f64]) -> f64 {
    let scale = reference.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let worst = actual
        .iter()
        .zip(reference)
        .fold(0.0f64, |m, (&a, &r)| m.max((a as f64 - r).abs()));
    worst / scale
}

// Inception's Dense sums 123,008 products per output. With non-negative
// inputs (post-ReLU) and weights the partial sums only grow, the worst case
// for one fp32 register chain: it was 1.2e-5 off here (measured with the
// blocking disabled), the blocked sum is at ~2e-7. Bound: 1e-5 relative to
// the largest output. Every micro-kernel path runs.
#[test]
fn dense_over_long_inputs_is_close_to_f64() {
    use nn_runtime::gather::{self, Path};
    let (rows, inputs, units) = (3, 123_008, 10);
    let mut rng = rng(5);
    let x: Vec<f32> = random_vec(&mut rng, rows * inputs)
        .iter()
        .map(|v| v.abs())
        .collect();
    let k: Vec<f32> = random_vec(&mut rng, inputs * units)
        .iter()
        .map(|v| v.abs())
        .collect();
    let b = random_vec(&mut rng, units);
    let mut reference = vec![0.0f64; rows * units];
    for r in 0..rows {
        for u in 0..units {
            reference[r * units + u] = b[u] as f64
                + (0..inputs)
                    .map(|i| x[r * inputs + i] as f64 * k[i * units + u] as f64)
                    .sum::<f64>();
        }
    }
    let spec = Dense {
        inputs,
        units,
        activation: Activation::Linear,
    };
    for path in [Path::Portable, Path::Avx2, Path::Avx512] {
        if !gather::supported(path) {
            continue;
        }
        gather::force(Some(path));
        let mut y = vec![0.0; rows * units];
        let mut ws = Workspace::new();
        // Twice with one workspace: reused scratch must not leak into the sum.
        for _ in 0..2 {
            spec.forward(rows, &x, &k, Some(&b), &mut y, &mut ws).unwrap();
            let err = relative_error(&y, &reference);
            assert!(err <= 1e-5, "{path:?}: relative error {err:e} above 1e-5");
        }
    }
    gather::force(None);
}

/// `backward_with`'s input gradient: `Overwrite` ignores what `dx` held
/// (garbage here) and gives the accumulated-from-zero result, with and
/// without the kernel gradient (a frozen layer); `Accumulate` adds to what
/// `dx` held. Every micro-kernel path (1 thread), and 2 threads.
#[test]
fn dense_input_gradient_overwrites_or_accumulates() {
    use nn_runtime::gather::{self, Path};
    use nn_runtime::{threads, GradWrite};
    let (rows, inputs, units) = (5, 37, 7);
    let mut rng = rng(13);
    let spec = Dense {
        inputs,
        units,
        activation: Activation::Relu,
    };
    let x = random_vec(&mut rng, rows * inputs);
    let k = random_vec(&mut rng, inputs * units);
    let mut y = vec![0.0; rows * units];
    let mut ws = Workspace::new();
    spec.forward(rows, &x, &k, None, &mut y, &mut ws).unwrap();
    let r = random_vec(&mut rng, y.len());
    let base = random_vec(&mut rng, x.len());
    let mut from_zero = vec![0.0; x.len()];
    let mut dk = vec![0.0; k.len()];
    spec.backward(
        rows,
        &x,
        &k,
        &y,
        &mut r.clone(),
        &mut dk,
        None,
        Some(&mut from_zero),
        &mut ws,
    )
    .unwrap();
    let run = |with_kernel_grad: bool, write: GradWrite, start: &[f32], ws: &mut Workspace| {
        let mut dk = vec![0.0; k.len()];
        let mut dx = start.to_vec();
        spec.backward_with(
            rows,
            &x,
            &k,
            &y,
            &mut r.clone(),
            with_kernel_grad.then_some(&mut dk[..]),
            None,
            Some(&mut dx),
            write,
            ws,
        )
        .unwrap();
        dx
    };
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
            for with_kernel_grad in [true, false] {
                let garbage = vec![f32::NAN; x.len()];
                let dx = run(with_kernel_grad, GradWrite::Overwrite, &garbage, &mut ws);
                assert_close("overwritten dense dx", &dx, &from_zero, 1e-5);
                let dx = run(with_kernel_grad, GradWrite::Accumulate, &base, &mut ws);
                let expected: Vec<f32> = base.iter().zip(&from_zero).map(|(a, g)| a + g).collect();
                assert_close("accumulated dense dx", &dx, &expected, 1e-5);
            }
        }
    }
    gather::force(None);
    threads::set(1);
}
