//! Kernel benchmark: forward and backward GFLOP/s of the lecture's layer
//! shapes at batch 32, beside plain sgemm at the equivalent GEMM size, so the
//! cost of im2col, bias, activation and packing is visible.
//!
//! Run: `cargo run --release -p nn-runtime --example kernel_bench`

use nn_runtime::gather;
use nn_runtime::gemm::{gemm, Transpose};
use nn_runtime::{Activation, Conv2d, Dense, Padding, Window2d, Workspace};

mod bench_support;
use bench_support::{filled, median_seconds};

const BATCH: usize = 32;
const REPEATS: usize = 9;

fn sgemm_gflops(m: usize, k: usize, n: usize) -> f64 {
    let (a, b, mut c) = (filled(m * k), filled(k * n), vec![0.0; m * n]);
    let t = median_seconds(REPEATS, || {
        gemm(m, k, n, 1.0, &a, Transpose::No, &b, Transpose::No, 0.0, &mut c).unwrap()
    });
    2.0 * (m * k * n) as f64 / t / 1e9
}

fn conv_row(h: usize, w: usize, cin: usize, cout: usize, k: usize) {
    let spec = Conv2d {
        window: Window2d {
            in_h: h,
            in_w: w,
            kernel_h: k,
            kernel_w: k,
            stride_h: 1,
            stride_w: 1,
            padding: Padding::Same,
        },
        in_channels: cin,
        filters: cout,
        activation: Activation::Relu,
    };
    let x = filled(BATCH * spec.in_len());
    let kernel = filled(spec.kernel_len());
    let bias = filled(cout);
    let mut y = vec![0.0; BATCH * spec.out_len()];
    let mut ws = Workspace::new();
    let (m, kk, n) = (BATCH * spec.out_h() * spec.out_w(), spec.patch_len(), cout);
    let fwd = median_seconds(REPEATS, || {
        spec.forward(BATCH, &x, &kernel, Some(&bias), &mut y, &mut ws)
            .unwrap()
    });
    let (mut dk, mut db, mut dx) = (vec![0.0; kernel.len()], vec![0.0; cout], vec![0.0; x.len()]);
    let dy0 = filled(y.len());
    let mut dy = dy0.clone();
    let bwd = median_seconds(REPEATS, || {
        dy.copy_from_slice(&dy0);
        spec.backward(
            BATCH,
            &x,
            &kernel,
            &y,
            &mut dy,
            &mut dk,
            Some(&mut db),
            Some(&mut dx),
            &mut ws,
        )
        .unwrap()
    });
    print_row(
        &format!("conv {h}x{w}x{cin}->{cout} {k}x{k}"),
        (m, kk, n),
        fwd,
        bwd,
    );
}

/// One table row: forward and backward times (backward does two GEMMs of the
/// forward's size), their GFLOP/s, and plain sgemm at the same size.
fn print_row(label: &str, (m, k, n): (usize, usize, usize), fwd: f64, bwd: f64) {
    let flops = 2.0 * (m * k * n) as f64;
    println!(
        "| {label} | {m}x{k}x{n} | {:.3} | {:.1} | {:.3} | {:.1} | {:.1} |",
        fwd * 1e3,
        flops / fwd / 1e9,
        bwd * 1e3,
        2.0 * flops / bwd / 1e9,
        sgemm_gflops(m, k, n)
    );
}

fn dense_row(inputs: usize, units: usize) {
    let spec = Dense {
        inputs,
        units,
        activation: Activation::Softmax,
    };
    let x = filled(BATCH * inputs);
    let kernel = filled(inputs * units);
    let bias = filled(units);
    let mut y = vec![0.0; BATCH * units];
    let mut ws = Workspace::new();
    let fwd = median_seconds(REPEATS, || {
        spec.forward(BATCH, &x, &kernel, Some(&bias), &mut y, &mut ws)
            .unwrap()
    });
    let (mut dk, mut db, mut dx) = (vec![0.0; kernel.len()], vec![0.0; units], vec![0.0; x.len()]);
    let dy0 = filled(y.len());
    let mut dy = dy0.clone();
    let bwd = median_seconds(REPEATS, || {
        dy.copy_from_slice(&dy0);
        spec.backward(
            BATCH,
            &x,
            &kernel,
            &y,
            &mut dy,
            &mut dk,
            Some(&mut db),
            Some(&mut dx),
            &mut ws,
        )
        .unwrap()
    });
    print_row(
        &format!("dense {inputs}->{units}"),
        (BATCH, inputs, units),
        fwd,
        bwd,
    );
}

/// Dense forward as `Dense::forward` computes it (blocked sums) against the
/// single register chain it used before (one gathered GEMM over all
/// inputs, bias and activation as before), interleaved in one run.
fn dense_blocking_row(inputs: usize, units: usize) {
    use nn_runtime::activation;
    use nn_runtime::gather::{Gather, Output};
    let spec = Dense {
        inputs,
        units,
        activation: Activation::Softmax,
    };
    let x = filled(BATCH * inputs);
    let kernel = filled(inputs * units);
    let bias = filled(units);
    let mut y = vec![0.0; BATCH * units];
    let mut ws = Workspace::new();
    let row_off: Vec<usize> = (0..BATCH).map(|r| r * inputs).collect();
    let (mut blocked, mut chain) = (Vec::new(), Vec::new());
    for _ in 0..=REPEATS * 3 {
        blocked.push(median_seconds(1, || {
            spec.forward(BATCH, &x, &kernel, Some(&bias), &mut y, &mut ws)
                .unwrap()
        }));
        chain.push(median_seconds(1, || {
            let g = Gather {
                x: &x,
                row_off: &row_off,
                k_off: &[0],
                k_run: inputs,
                b: &kernel,
                ldb: units,
                cols: units,
            };
            let mut o = Output {
                out: &mut y,
                ldo: units,
                accumulate: false,
                bias: Some(&bias),
                addend: None,
            };
            gather::run(&g, &mut o).unwrap();
            activation::forward_in_place(Activation::Softmax, &mut y, units).unwrap();
        }));
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        v[v.len() / 2]
    };
    let (b, c) = (median(blocked), median(chain));
    println!(
        "dense {inputs}->{units} forward, batch {BATCH}: blocked sums {:.3} ms, one chain {:.3} ms, blocked/chain time {:.3}",
        b * 1e3,
        c * 1e3,
        b / c
    );
}

fn main() {
    // `-- --path portable|avx2|avx512` measures one micro-kernel path
    // (with NN_NUM_THREADS=1 every kernel runs on this thread).
    let args: Vec<String> = std::env::args().collect();
    if let Some(name) = args
        .iter()
        .position(|a| a == "--path")
        .and_then(|i| args.get(i + 1))
    {
        let path = match name.as_str() {
            "portable" => gather::Path::Portable,
            "avx2" => gather::Path::Avx2,
            _ => gather::Path::Avx512,
        };
        gather::force(Some(path));
    }
    println!(
        "micro-kernel path: {:?}, kernel threads: {}",
        gather::active(),
        nn_runtime::threads::current()
    );
    println!("batch {BATCH}, median of {REPEATS} runs; conv: same padding, stride 1, bias + relu fused");
    println!("| layer | GEMM m x k x n | fwd ms | fwd GFLOP/s | bwd ms | bwd GFLOP/s | sgemm GFLOP/s |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    conv_row(64, 64, 3, 16, 3);
    conv_row(64, 64, 16, 16, 3);
    conv_row(64, 64, 16, 32, 3);
    conv_row(32, 32, 32, 32, 3);
    conv_row(31, 31, 64, 32, 1);
    conv_row(31, 31, 64, 32, 5);
    dense_row(8192, 6);
    dense_row(123_008, 6);
    dense_blocking_row(123_008, 6);
    dense_blocking_row(8192, 6);
}
