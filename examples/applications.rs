//! Batch-1 forward time of each `nn::applications` network: the median of
//! several predictions of one image after a warm-up, with the parameter
//! counts beside it.
//!
//! `cargo run --release --features applications --example applications -- [--runs N] [--nets vgg16,resnet50,...]`

use std::time::Instant;

use nn::applications::{DenseNet121, ResNet50, VGG16};
use nn::ndarray::Array4;
use nn::prelude::*;
use nn::rand::SeedableRng;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// One image of `size x size x 3` with values in [0, 1).
fn image(size: usize) -> Array4<f32> {
    Array4::from_shape_fn((1, size, size, 3), |(_, h, w, c)| {
        ((h * 31 + w * 17 + c * 7) % 256) as f32 / 256.0
    })
}

/// Times `runs` batch-1 predictions after one warm-up; returns ms.
fn time_forward<M: Model>(
    net: &mut M,
    x: &Array4<f32>,
    runs: usize,
    mut predict: impl FnMut(&mut M, &Array4<f32>) -> Result<usize, NnError>,
) -> Result<f64, NnError> {
    let classes = predict(net, x)?;
    assert_eq!(classes, 1000);
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        predict(net, x)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(times))
}

fn main() -> Result<(), NnError> {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let runs: usize = value("--runs").map_or(5, |v| v.parse().expect("--runs N"));
    let nets = value("--nets").unwrap_or_else(|| "vgg16,resnet50,densenet121".into());
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(0);
    println!("network      params        batch-1 forward, median of {runs} (ms)");
    for name in nets.split(',') {
        let (params, ms) = match name {
            "vgg16" => {
                let mut net = VGG16::new(&mut rng);
                let ms = time_forward(&mut net, &image(224), runs, |n, x| Ok(n.predict(x.view())?.len()))?;
                (VGG16::PARAM_COUNT, ms)
            }
            "resnet50" => {
                let mut net = ResNet50::new(&mut rng);
                let ms = time_forward(&mut net, &image(224), runs, |n, x| Ok(n.predict(x.view())?.len()))?;
                (ResNet50::PARAM_COUNT, ms)
            }
            "densenet121" => {
                let mut net = DenseNet121::new(&mut rng);
                let ms = time_forward(&mut net, &image(224), runs, |n, x| Ok(n.predict(x.view())?.len()))?;
                (DenseNet121::PARAM_COUNT, ms)
            }
            other => {
                eprintln!("unknown network `{other}`; expected vgg16, resnet50, densenet121");
                std::process::exit(2);
            }
        };
        println!("{name:<12} {params:>11}   {ms:>8.1}");
    }
    Ok(())
}
