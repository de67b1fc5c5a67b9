//! Why two summation orders of one training run part on the lecture's relu
//! network, and how much each convolution algorithm adds (issue #9: the MPI
//! test that kept Winograd off by default). Not built by CI; to run it:
//!
//! ```text
//! cp tools/probes/trajectory_gap.rs examples/ &&
//!     cargo run --profile test --example trajectory_gap -- relu 20 &&
//!     cargo run --profile test --example trajectory_gap -- smooth 20;
//!     rm examples/trajectory_gap.rs
//! ```
//!
//! For each algorithm (direct, F(2x2), F(4x4) everywhere, the cost rule),
//! one thread:
//! 1. sensitivity: the parameter gradient of one batch of 32 at the initial
//!    weights against the gradient at weights moved by a relative 1e-7,
//!    per parameter, relative to its largest entry (rounding alone: ~1e-6);
//! 2. trajectories: 10 SGD steps (momentum 0.9, rate 0.01) over 129 samples
//!    in global batches of 32 (two epochs, the last batch a single sample),
//!    once as one process and once as two emulated ranks (each the mean
//!    gradient of its half, scaled by its share, then summed), as
//!    `mpi-tests` does; the largest weight gap after each step, for ORDERS
//!    random data orders, and how many orders exceed 1e-5.
//!
//! `relu` is the lecture network (`examples/networks/fashion_residual.rs`),
//! `smooth` the same shapes with tanh and average pooling.

#[path = "networks/fashion_residual.rs"]
mod fashion_residual;

use fashion_residual::ResidualNet;
use nn::prelude::*;
use nn::rand::seq::SliceRandom;
use nn::rand::SeedableRng;
use nn::runtime::conv_algorithm::{self, Choice};
use nn::runtime::winograd::Tile;

nn::network! {
    fn smooth_block(x, n) {
        let a = Conv2D(n, 3, padding = same, activation = tanh)(x);
        let z = Conv2D(n, 3, padding = same)(a);
        tanh(add(z, x))
    }

    struct SmoothNet {
        input x: [28, 28, 1];
        let x0 = Conv2D(16, 3, padding = same, activation = tanh)(x);
        let x1 = smooth_block(x0, 16);
        let x2 = Conv2D(32, 3, padding = same, activation = tanh)(x1);
        let x2 = AveragePooling2D(2)(x2);
        let x2 = smooth_block(x2, 32);
        let x2 = AveragePooling2D(2)(x2);
        output y = Dense(10, activation = softmax)(flatten(x2));
    }
}

const SAMPLES: usize = 129;
const BATCH: usize = 32;
const PIXELS: usize = 784;
const CLASSES: usize = 10;

/// Mean-loss gradient of the first `n` samples; the weights are left as
/// they were.
fn gradient<N: Model>(net: &mut N, x: &[f32], t: &[f32], n: usize) -> Vec<f32> {
    let saved = net.params().to_vec();
    let mut trainer = Trainer::new(Sgd::new(1e-4), Loss::CategoricalCrossentropy);
    let mut grads = vec![vec![0.0; n * CLASSES]];
    trainer
        .train_step(net, n, &[&x[..n * PIXELS]], &[&t[..n * CLASSES]], &mut grads)
        .unwrap();
    net.params_mut().copy_from_slice(&saved);
    net.param_grads().to_vec()
}

/// Keras's SGD with momentum, written out so both runs share it.
struct Momentum(Vec<f32>);

impl Momentum {
    fn step(&mut self, w: &mut [f32], g: &[f32]) {
        for ((w, v), g) in w.iter_mut().zip(&mut self.0).zip(g) {
            *v = 0.9 * *v - 0.01 * g;
            *w += *v;
        }
    }
}

fn max_gap(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
}

fn sensitivity<N: Model>(fresh: &dyn Fn() -> N, x: &[f32], t: &[f32]) -> String {
    let mut net = fresh();
    let base = gradient(&mut net, x, t, BATCH);
    let mut moved = fresh();
    for (i, w) in moved.params_mut().iter_mut().enumerate() {
        *w *= 1.0 + if i % 2 == 0 { 1e-7 } else { -1e-7 };
    }
    let other = gradient(&mut moved, x, t, BATCH);
    let mut line = String::new();
    for p in N::SPEC.params {
        let r = p.offset..p.offset + p.len;
        let scale = base[r.clone()].iter().fold(0.0f32, |m, v| m.max(v.abs()));
        line += &format!(" {}={:.1e}", p.key, max_gap(&base[r.clone()], &other[r]) / scale);
    }
    line
}

/// Weight gap after each of the 10 steps, one data order.
fn trajectory<N: Model>(fresh: &dyn Fn() -> N, x: &[f32], t: &[f32], seed: u64) -> Vec<f32> {
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(seed);
    let (mut single, mut rank0, mut rank1) = (fresh(), fresh(), fresh());
    let len = single.params().len();
    let (mut single_sgd, mut ranks_sgd) = (Momentum(vec![0.0; len]), Momentum(vec![0.0; len]));
    let mut gaps = vec![];
    for _epoch in 0..2 {
        let mut order: Vec<usize> = (0..SAMPLES).collect();
        order.shuffle(&mut rng);
        let xo: Vec<f32> = order
            .iter()
            .flat_map(|&i| x[i * PIXELS..(i + 1) * PIXELS].to_vec())
            .collect();
        let to: Vec<f32> = order
            .iter()
            .flat_map(|&i| t[i * CLASSES..(i + 1) * CLASSES].to_vec())
            .collect();
        for start in (0..SAMPLES).step_by(BATCH) {
            let n = BATCH.min(SAMPLES - start);
            let (xs, ts) = (&xo[start * PIXELS..], &to[start * CLASSES..]);
            let g = gradient(&mut single, xs, ts, n);
            single_sgd.step(single.params_mut(), &g);
            // Rank 0 takes the first half (all of a single sample).
            let half = n.div_ceil(2);
            let mut sum = gradient(&mut rank0, xs, ts, half);
            if half != n {
                let share = half as f32 / n as f32;
                sum.iter_mut().for_each(|g| *g *= share);
                let g1 = gradient(&mut rank1, &xs[half * PIXELS..], &ts[half * CLASSES..], n - half);
                let share = (n - half) as f32 / n as f32;
                sum.iter_mut().zip(&g1).for_each(|(s, g)| *s += g * share);
            }
            ranks_sgd.step(rank0.params_mut(), &sum);
            rank1.params_mut().copy_from_slice(rank0.params());
            gaps.push(max_gap(single.params(), rank0.params()));
        }
    }
    gaps
}

fn run<N: Model>(fresh: &dyn Fn() -> N, x: &[f32], t: &[f32], orders: u64) {
    for (name, choice) in [
        ("direct", Choice::Direct),
        ("winograd2", Choice::Winograd(Tile::F2)),
        ("winograd", Choice::Winograd(Tile::F4)),
        ("auto", Choice::Auto),
    ] {
        conv_algorithm::force(Some(choice));
        println!(
            "{name}: gradient change at weights moved by 1e-7:{}",
            sensitivity(fresh, x, t)
        );
        let mut over = 0;
        let mut worst = 0.0f32;
        for seed in 0..orders {
            let gaps = trajectory(fresh, x, t, seed);
            let line: Vec<String> = gaps.iter().map(|g| format!("{g:.2e}")).collect();
            println!("{name} order {seed}: {}", line.join(" "));
            let order_worst = gaps.iter().fold(0.0f32, |m, &g| m.max(g));
            over += usize::from(order_worst > 1e-5);
            worst = worst.max(order_worst);
        }
        println!("{name}: {over} of {orders} orders over 1e-5; worst gap {worst:.2e}");
    }
    conv_algorithm::force(None);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let net = args.get(1).map_or("relu", String::as_str);
    let orders: u64 = args.get(2).map_or(20, |s| s.parse().expect("ORDERS: a number"));
    nn::runtime::threads::set(1);
    let (train, _) = datasets::fashion_mnist(std::path::Path::new("data/fashion-mnist-subset")).unwrap();
    let x: Vec<f32> = train
        .images
        .slice(nn::ndarray::s![..SAMPLES, .., .., ..])
        .iter()
        .copied()
        .collect();
    let t: Vec<f32> = one_hot(&train.labels[..SAMPLES], CLASSES)
        .unwrap()
        .iter()
        .copied()
        .collect();
    let seed = || nn::rand::rngs::StdRng::seed_from_u64(42);
    match net {
        "relu" => run(&|| ResidualNet::new(&mut seed()), &x, &t, orders),
        "smooth" => run(&|| SmoothNet::new(&mut seed()), &x, &t, orders),
        other => eprintln!("unknown network `{other}`: expected `relu` or `smooth`"),
    }
}
