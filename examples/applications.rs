//! Batch-1 forward time of each `nn::applications` network: the median of
//! several predictions of one image after a warm-up, with the parameter
//! counts beside it. Beside the wall time, the process's CPU time per
//! prediction (Linux, from `/proc/self/stat`): on a shared, overloaded
//! machine the wall time mostly measures waiting for a core, and with
//! `NN_NUM_THREADS=1` the CPU time is the forward pass's own work.
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

/// User + system CPU time of this process in ms (all threads), where the
/// system says (Linux).
fn cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux platform Rust supports.
    Some(ticks * 10.0)
}

/// Times `runs` batch-1 predictions after one warm-up; returns the median
/// wall time and the mean CPU time per prediction, in ms.
fn time_forward<M: Model>(
    net: &mut M,
    x: &Array4<f32>,
    runs: usize,
    mut predict: impl FnMut(&mut M, &Array4<f32>) -> Result<usize, NnError>,
) -> Result<(f64, Option<f64>), NnError> {
    let classes = predict(net, x)?;
    assert_eq!(classes, 1000);
    let mut times = Vec::with_capacity(runs);
    let cpu_before = cpu_ms();
    for _ in 0..runs {
        let started = Instant::now();
        predict(net, x)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let cpu = cpu_before.zip(cpu_ms()).map(|(a, b)| (b - a) / runs as f64);
    Ok((median(times), cpu))
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
    println!(
        "batch-1 forward, {runs} runs after a warm-up; {} threads",
        nn::runtime::threads::current()
    );
    println!("network           params   wall median ms   CPU ms per run");
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
        let (wall, cpu) = ms;
        let cpu = cpu.map_or("n/a".to_string(), |c| format!("{c:.1}"));
        println!("{name:<12} {params:>11}   {wall:>14.1}   {cpu:>14}");
    }
    Ok(())
}
