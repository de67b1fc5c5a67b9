//! Where ResNet-50's time goes at 224x224, batch 8: every distinct
//! convolution shape of the network (with how often it occurs), timed
//! forward and backward, so the layers that dominate are visible.
//!
//! GFLOP/s count `2 · out pixels · kh · kw · cin · cout` per product. The
//! "share" column is the shape's forward time times its count, over the sum.
//!
//! Run: `cargo run --release -p nn-runtime --example resnet50_layers_bench`
//! (`NN_NUM_THREADS=1` for one thread; `-- --quick` for fewer repetitions;
//! `-- --forward` to skip backward).

use nn_runtime::{gather, Activation, Conv2d, Padding, Window2d, Workspace};

mod bench_support;
use bench_support::{filled, median_seconds};

const BATCH: usize = 8;

/// `(label, input size, cin, cout, kernel, stride, padding, occurrences)`.
type Shape = (&'static str, usize, usize, usize, usize, usize, Padding, usize);

const SHAPES: [Shape; 17] = [
    ("stem 7x7/2", 230, 3, 64, 7, 2, Padding::Valid, 1),
    ("s1 1x1 64->64", 56, 64, 64, 1, 1, Padding::Valid, 1),
    ("s1 1x1 64->256", 56, 64, 256, 1, 1, Padding::Valid, 4),
    ("s1 1x1 256->64", 56, 256, 64, 1, 1, Padding::Valid, 2),
    ("s1 3x3 64", 56, 64, 64, 3, 1, Padding::Same, 3),
    ("s2 1x1/2 256->512", 56, 256, 512, 1, 2, Padding::Valid, 1),
    ("s2 1x1/2 256->128", 56, 256, 128, 1, 2, Padding::Valid, 1),
    ("s2 3x3 128", 28, 128, 128, 3, 1, Padding::Same, 4),
    ("s2 1x1 128->512", 28, 128, 512, 1, 1, Padding::Valid, 4),
    ("s2 1x1 512->128", 28, 512, 128, 1, 1, Padding::Valid, 3),
    ("s3 1x1/2 512->1024", 28, 512, 1024, 1, 2, Padding::Valid, 1),
    ("s3 1x1/2 512->256", 28, 512, 256, 1, 2, Padding::Valid, 1),
    ("s3 3x3 256", 14, 256, 256, 3, 1, Padding::Same, 6),
    ("s3 1x1 256->1024", 14, 256, 1024, 1, 1, Padding::Valid, 6),
    ("s3 1x1 1024->256", 14, 1024, 256, 1, 1, Padding::Valid, 5),
    ("s4 1x1/2 1024->2048", 14, 1024, 2048, 1, 2, Padding::Valid, 1),
    ("s4 3x3 512", 7, 512, 512, 3, 1, Padding::Same, 3),
];

/// The shapes the table above leaves out are the stage-4 1x1 layers, timed
/// here too: `(label, size, cin, cout, occurrences)`.
const STAGE4_1X1: [(&str, usize, usize, usize, usize); 3] = [
    ("s4 1x1/2 1024->512", 14, 1024, 512, 1),
    ("s4 1x1 512->2048", 7, 512, 2048, 3),
    ("s4 1x1 2048->512", 7, 2048, 512, 2),
];

fn spec(size: usize, cin: usize, cout: usize, k: usize, stride: usize, padding: Padding) -> Conv2d {
    Conv2d {
        window: Window2d {
            in_h: size,
            in_w: size,
            kernel_h: k,
            kernel_w: k,
            stride_h: stride,
            stride_w: stride,
            padding,
        },
        in_channels: cin,
        filters: cout,
        activation: Activation::Linear,
    }
}

/// Forward and backward (kernel + input gradient) seconds.
fn time(spec: &Conv2d, repeats: usize, backward: bool) -> (f64, f64) {
    let x = filled(BATCH * spec.in_len());
    let kernel = filled(spec.kernel_len());
    let bias = filled(spec.filters);
    let mut y = vec![0.0; BATCH * spec.out_len()];
    let mut ws = Workspace::new();
    let fwd = median_seconds(repeats, || {
        spec.forward(BATCH, &x, &kernel, Some(&bias), &mut y, &mut ws)
            .unwrap()
    });
    if !backward {
        return (fwd, 0.0);
    }
    let (mut dk, mut db, mut dx) = (
        vec![0.0; kernel.len()],
        vec![0.0; spec.filters],
        vec![0.0; x.len()],
    );
    let dy0 = filled(y.len());
    let mut dy = dy0.clone();
    let bwd = median_seconds(repeats, || {
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
    (fwd, bwd)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let backward = !std::env::args().any(|a| a == "--forward");
    let repeats = if quick { 3 } else { 9 };
    println!(
        "micro-kernel path: {:?}, kernel threads: {}, batch {BATCH}, median of {repeats}",
        gather::active(),
        nn_runtime::threads::current()
    );
    let mut rows = Vec::new();
    let all = SHAPES
        .iter()
        .map(|&(label, size, cin, cout, k, stride, padding, count)| {
            (label, spec(size, cin, cout, k, stride, padding), count)
        });
    let stage4 = STAGE4_1X1.iter().map(|&(label, size, cin, cout, count)| {
        let stride = if size == 14 { 2 } else { 1 };
        (label, spec(size, cin, cout, 1, stride, Padding::Valid), count)
    });
    for (label, spec, count) in all.chain(stage4) {
        let (fwd, bwd) = time(&spec, repeats, backward);
        let w = &spec.window;
        let flops = 2.0
            * (BATCH * spec.out_h() * spec.out_w() * w.kernel_h * w.kernel_w) as f64
            * (spec.in_channels * spec.filters) as f64;
        rows.push((label, count, fwd, bwd, flops));
    }
    let total_fwd: f64 = rows.iter().map(|r| r.1 as f64 * r.2).sum();
    let total_bwd: f64 = rows.iter().map(|r| r.1 as f64 * r.3).sum();
    println!("| shape | count | fwd ms | fwd GFLOP/s | fwd share | bwd ms | bwd GFLOP/s (2 products) | bwd share |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (label, count, fwd, bwd, flops) in rows {
        println!(
            "| {label} | {count} | {:.2} | {:.1} | {:.1}% | {:.2} | {:.1} | {:.1}% |",
            fwd * 1e3,
            flops / fwd / 1e9,
            100.0 * count as f64 * fwd / total_fwd,
            bwd * 1e3,
            2.0 * flops / bwd.max(1e-12) / 1e9,
            100.0 * count as f64 * bwd / total_bwd.max(1e-12),
        );
    }
    println!(
        "all convolutions of one batch: forward {:.1} ms, backward {:.1} ms",
        total_fwd * 1e3,
        total_bwd * 1e3
    );
}
