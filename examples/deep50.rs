//! A 50-convolution residual network, to measure how generated code and
//! build time grow with depth (`network!` unrolls the loop into 24 blocks).
//!
//! `touch examples/deep50.rs && time cargo build --release --example deep50`
//! then `cargo run --release --example deep50` prints the summary's totals
//! and times a few training steps.

use std::time::Instant;

use nn::prelude::*;
use nn::rand::SeedableRng;

network! {
    fn block(x, n) {
        let a = Conv2D(n, 3, padding = same, activation = relu)(x);
        let z = Conv2D(n, 3, padding = same)(a);
        relu(add(z, x))
    }

    /// 1 stem convolution, 24 residual blocks (48 convolutions), 1 1x1 head.
    pub struct Deep50 {
        input x: [32, 32, 3];
        let h = Conv2D(16, 3, padding = same, activation = relu)(x);
        for _ in 0..24 {
            h = block(h, 16);
        }
        let h = Conv2D(4, 1, activation = relu)(h);
        output y = Dense(10, activation = softmax)(flatten(h));
    }
}

fn main() -> Result<(), NnError> {
    let summary = Deep50::summary();
    let convs = summary.lines().filter(|l| l.contains("(Conv2D)")).count();
    println!("{convs} convolutions, {} parameters", Deep50::PARAM_COUNT);
    let mut net = Deep50::new(&mut nn::rand::rngs::StdRng::seed_from_u64(0));
    let batch = 32;
    let x: Vec<f32> = (0..batch * 32 * 32 * 3).map(|i| (i % 17) as f32 / 17.0).collect();
    let y: Vec<f32> = (0..batch * 10)
        .map(|i| if i % 10 == (i / 10) % 10 { 1.0 } else { 0.0 })
        .collect();
    let mut grads = vec![vec![0.0; batch * 10]];
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
    trainer.train_step(&mut net, batch, &[&x], &[&y], &mut grads)?;
    let started = Instant::now();
    let steps = 5;
    for _ in 0..steps {
        trainer.train_step(&mut net, batch, &[&x], &[&y], &mut grads)?;
    }
    let per_step = started.elapsed().as_secs_f64() / steps as f64;
    println!(
        "training: {:.1} ms per batch of {batch} ({:.0} images/s)",
        per_step * 1e3,
        batch as f64 / per_step
    );
    Ok(())
}
