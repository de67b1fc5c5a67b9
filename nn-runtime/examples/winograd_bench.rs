//! Winograd against direct convolution on the stride-1 3x3 and 5x5 layers
//! of the lecture's residual and inception networks (batch 32) and the 3x3
//! layers of ResNet-50 at 224x224 (batch 8): forward, input gradient and
//! kernel gradient, in one run, medians of interleaved repetitions.
//!
//! GFLOP/s count the direct algorithm's FLOPs (`2 · pixels · r² · cin · cout`
//! per product) for every algorithm, so the figures compare times directly.
//! The input gradient's time is backward-with-dx minus backward-without-dx.
//!
//! Run: `cargo run --release -p nn-runtime --example winograd_bench`
//! (`NN_NUM_THREADS=1` for one thread; `-- --quick` for fewer repetitions;
//! `-- --shape N` for the N-th shape only; `-- --only winograd4` times one
//! algorithm alone, for a profiler, and its speed-up column is then 1).

use nn_runtime::conv_algorithm::{self, Choice};
use nn_runtime::winograd::Tile;
use nn_runtime::{gather, Activation, Conv2d, Padding, Window2d, Workspace};

mod bench_support;
use bench_support::filled;

use std::time::Instant;

struct Shape {
    net: &'static str,
    batch: usize,
    size: usize,
    cin: usize,
    cout: usize,
    kernel: usize,
}

const SHAPES: [Shape; 12] = [
    Shape {
        net: "residual/inception stem",
        batch: 32,
        size: 64,
        cin: 3,
        cout: 16,
        kernel: 3,
    },
    Shape {
        net: "residual block, inception(16)",
        batch: 32,
        size: 64,
        cin: 16,
        cout: 16,
        kernel: 3,
    },
    Shape {
        net: "residual",
        batch: 32,
        size: 64,
        cin: 16,
        cout: 32,
        kernel: 3,
    },
    Shape {
        net: "residual block",
        batch: 32,
        size: 32,
        cin: 32,
        cout: 32,
        kernel: 3,
    },
    Shape {
        net: "inception(32)",
        batch: 32,
        size: 31,
        cin: 32,
        cout: 32,
        kernel: 3,
    },
    Shape {
        net: "ResNet-50 conv2",
        batch: 8,
        size: 56,
        cin: 64,
        cout: 64,
        kernel: 3,
    },
    Shape {
        net: "ResNet-50 conv3",
        batch: 8,
        size: 28,
        cin: 128,
        cout: 128,
        kernel: 3,
    },
    Shape {
        net: "ResNet-50 conv4",
        batch: 8,
        size: 14,
        cin: 256,
        cout: 256,
        kernel: 3,
    },
    Shape {
        net: "ResNet-50 conv5",
        batch: 8,
        size: 7,
        cin: 512,
        cout: 512,
        kernel: 3,
    },
    Shape {
        net: "small channels",
        batch: 32,
        size: 32,
        cin: 8,
        cout: 8,
        kernel: 3,
    },
    Shape {
        net: "inception 5x5(16)",
        batch: 32,
        size: 64,
        cin: 16,
        cout: 16,
        kernel: 5,
    },
    Shape {
        net: "inception 5x5(32)",
        batch: 32,
        size: 31,
        cin: 32,
        cout: 32,
        kernel: 5,
    },
];

/// The algorithms worth timing on `spec` (direct first: the baseline),
/// or only `only` (`--only VALUE`, values as `NN_CONV`; for profiling).
fn choices(spec: &Conv2d, only: Option<Choice>) -> Vec<(Choice, String)> {
    let r = spec.window.kernel_h;
    let mut out = vec![(Choice::Direct, "direct".to_string())];
    for (tile, m) in [(Tile::F2, 2), (Tile::F4, 4)] {
        if conv_algorithm::winograd_applies(spec) {
            out.push((Choice::Winograd(tile), format!("F({m}x{m},{r}x{r})")));
        }
    }
    if let Some(only) = only {
        out.retain(|(c, _)| *c == only);
    }
    out
}

/// Times of one algorithm: forward, backward without and with dx.
#[derive(Default)]
struct Times {
    forward: Vec<f64>,
    kernel_grad: Vec<f64>,
    both_grads: Vec<f64>,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn timed(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64()
}

fn measure(s: &Shape, repeats: usize, only: Option<Choice>) {
    let spec = Conv2d {
        window: Window2d {
            in_h: s.size,
            in_w: s.size,
            kernel_h: s.kernel,
            kernel_w: s.kernel,
            stride_h: 1,
            stride_w: 1,
            padding: Padding::Same,
        },
        in_channels: s.cin,
        filters: s.cout,
        activation: Activation::Relu,
    };
    let b = s.batch;
    let x = filled(b * spec.in_len());
    let kernel = filled(spec.kernel_len());
    let bias = filled(s.cout);
    let dy0 = filled(b * spec.out_len());
    let mut y = vec![0.0; b * spec.out_len()];
    let mut dy = dy0.clone();
    let (mut dk, mut db, mut dx) = (vec![0.0; kernel.len()], vec![0.0; s.cout], vec![0.0; x.len()]);
    let choices = choices(&spec, only);
    let mut workspaces: Vec<Workspace> = choices.iter().map(|_| Workspace::new()).collect();
    let mut times: Vec<Times> = choices.iter().map(|_| Times::default()).collect();
    // Repetition 0 warms up (workspace sizing, page faults) and is dropped.
    for rep in 0..=repeats {
        for (i, &(choice, _)) in choices.iter().enumerate() {
            conv_algorithm::force(Some(choice));
            let ws = &mut workspaces[i];
            let f = timed(|| {
                spec.forward(b, &x, &kernel, Some(&bias), &mut y, ws).unwrap();
            });
            dy.copy_from_slice(&dy0);
            let k = timed(|| {
                spec.backward(b, &x, &kernel, &y, &mut dy, &mut dk, Some(&mut db), None, ws)
                    .unwrap();
            });
            dy.copy_from_slice(&dy0);
            let both = timed(|| {
                spec.backward(
                    b,
                    &x,
                    &kernel,
                    &y,
                    &mut dy,
                    &mut dk,
                    Some(&mut db),
                    Some(&mut dx),
                    ws,
                )
                .unwrap();
            });
            if rep > 0 {
                times[i].forward.push(f);
                times[i].kernel_grad.push(k);
                times[i].both_grads.push(both);
            }
        }
    }
    conv_algorithm::force(None);
    let taps = s.kernel * s.kernel;
    let flops = 2.0 * (b * spec.out_h() * spec.out_w() * taps * s.cin * s.cout) as f64;
    let gflops = |t: f64| flops / t / 1e9;
    let mut medians = Vec::new();
    for t in times {
        let fwd = median(t.forward);
        let kg = median(t.kernel_grad);
        let ig = (median(t.both_grads) - kg).max(1e-9);
        medians.push((fwd, ig, kg));
    }
    let (df, di, dk) = medians[0];
    let k = s.kernel;
    for (i, &(fwd, ig, kg)) in medians.iter().enumerate() {
        let label = &choices[i].1;
        println!(
            "| {}x{}x{}->{} {k}x{k} b{} ({}) | {label} | {:.2} | {:.1} | {:.2} | {:.1} | {:.2} | {:.1} | {:.2} |",
            s.size,
            s.size,
            s.cin,
            s.cout,
            b,
            s.net,
            fwd * 1e3,
            gflops(fwd),
            ig * 1e3,
            gflops(ig),
            kg * 1e3,
            gflops(kg),
            (df + di + dk) / (fwd + ig + kg),
        );
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let repeats = if quick { 5 } else { 15 };
    println!(
        "micro-kernel path: {:?}, kernel threads: {}, median of {repeats} interleaved runs",
        gather::active(),
        nn_runtime::threads::current()
    );
    println!(
        "same padding, stride 1, bias + relu; GFLOP/s count direct-convolution FLOPs for every algorithm"
    );
    println!("| layer (net) | algorithm | fwd ms | fwd GFLOP/s | input-grad ms | input-grad GFLOP/s | kernel-grad ms | kernel-grad GFLOP/s | speed-up vs direct (all three) |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    let value_of = |flag: &str| std::env::args().skip_while(|a| a != flag).nth(1);
    let shape: Option<usize> = value_of("--shape").and_then(|v| v.parse().ok());
    let only =
        value_of("--only").map(|v| conv_algorithm::parse_env(&v).expect("--only takes a value of NN_CONV"));
    for (i, s) in SHAPES.iter().enumerate() {
        if shape.is_none_or(|o| o == i) {
            measure(s, repeats, only);
        }
    }
}
