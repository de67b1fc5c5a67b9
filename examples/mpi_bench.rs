//! Data-parallel throughput on one machine: the lecture's two networks
//! (64x64x3 input, 6 classes, as in `examples/bench.rs`) trained at global
//! batch 32 by 1 process x 2 kernel threads against 2 MPI processes x 1
//! thread, plus the time of one all-reduce of the gradient.
//!
//! `cargo run --release --features mpi --example mpi_bench -- [--rounds 5] [--steps 10] [--nets resnet,inception]`
//!
//! Each figure comes from its own `mpirun` job; the two layouts alternate
//! round by round so that load from elsewhere on the machine falls on both,
//! and the medians over rounds are printed with their range. Inside a job:
//! one warm-up epoch, then three timed epochs of `--steps` global batches
//! (`Trainer::fit_distributed`, Adam, categorical cross-entropy), and 50
//! all-reduces of a gradient-sized buffer after 10 warm-up ones.

#[path = "networks/lecture.rs"]
mod lecture;

use std::process::Command;
use std::time::Instant;

use lecture::{InceptionNet, ResidualNet};
use nn::prelude::*;
use nn::rand::{Rng, SeedableRng};
use nn::runtime::train::distributed::{self, Replicas};

const GLOBAL_BATCH: usize = 32;
const TIMED_EPOCHS: usize = 3;

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|s| s.as_str())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Random images and one-hot labels: the speed does not depend on them.
fn data(samples: usize) -> Result<Dataset, NnError> {
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(5);
    let x = nn::ndarray::Array4::from_shape_fn((samples, 64, 64, 3), |_| rng.random::<f32>());
    let labels: Vec<usize> = (0..samples).map(|_| rng.random_range(0..6)).collect();
    Dataset::new(x, one_hot(&labels, 6)?)
}

/// One job's figures, printed by rank 0 as `result img_per_s=.. allreduce_ms=..`.
fn measure<M: Model>(net: &mut M, steps: usize, replicas: &Replicas) -> Result<(), NnError> {
    let train = data(steps * GLOBAL_BATCH)?;
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
    let quiet = |epochs| FitConfig {
        epochs,
        batch_size: GLOBAL_BATCH,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    trainer.fit_distributed(net, &train, None, &quiet(1), &mut [], replicas)?;
    let started = Instant::now();
    trainer.fit_distributed(net, &train, None, &quiet(TIMED_EPOCHS), &mut [], replicas)?;
    let seconds = started.elapsed().as_secs_f64();

    let gradient = vec![1.0f32; net.params().len()];
    let mut sum = vec![0.0f32; gradient.len()];
    let mut times = Vec::new();
    for i in 0..60 {
        let t = Instant::now();
        replicas.sum_into(&gradient, &mut sum)?;
        if i >= 10 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    if replicas.is_root() {
        println!(
            "result img_per_s={:.2} allreduce_ms={:.4} step_ms={:.2}",
            (TIMED_EPOCHS * train.len()) as f64 / seconds,
            median(times) * 1e3,
            seconds / (TIMED_EPOCHS * steps) as f64 * 1e3
        );
    }
    Ok(())
}

fn worker(net: &str, steps: usize) -> Result<(), NnError> {
    distributed::run(|replicas| {
        let mut rng = nn::rand::rngs::StdRng::seed_from_u64(1);
        match net {
            "resnet" => measure(&mut ResidualNet::new(&mut rng), steps, replicas),
            "inception" => measure(&mut InceptionNet::new(&mut rng), steps, replicas),
            other => Err(NnError::Other(format!(
                "unknown network `{other}` (resnet, inception)"
            ))),
        }
    })
}

/// Runs one job: `processes` ranks with `threads` kernel threads each.
fn job(net: &str, steps: usize, processes: usize, threads: usize) -> Option<(f64, f64, f64)> {
    let me = std::env::current_exe().ok()?;
    // Two ranks: one core each (Open MPI's default binding). One rank with
    // two threads: no binding, so it may use both cores.
    let binding = if processes == 1 { "none" } else { "core" };
    let output = Command::new("mpirun")
        .args(["-np", &processes.to_string(), "--bind-to", binding])
        .arg(&me)
        .args(["--worker", net, "--steps", &steps.to_string()])
        .env("NN_NUM_THREADS", threads.to_string())
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .env("OMPI_MCA_btl", "self,vader")
        .env("OMPI_MCA_oob_tcp_if_include", "lo")
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|l| l.starts_with("result "));
    let Some(line) = line else {
        eprintln!(
            "job {processes}x{threads} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    };
    let field = |key: &str| -> Option<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))?
            .parse()
            .ok()
    };
    Some((field("img_per_s")?, field("allreduce_ms")?, field("step_ms")?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let steps = flag(&args, "--steps").and_then(|s| s.parse().ok()).unwrap_or(10);
    if let Some(net) = flag(&args, "--worker") {
        return Ok(worker(net, steps)?);
    }
    let rounds: usize = flag(&args, "--rounds").and_then(|s| s.parse().ok()).unwrap_or(5);
    let nets = flag(&args, "--nets").unwrap_or("resnet,inception");
    println!("global batch {GLOBAL_BATCH}, {steps} steps x {TIMED_EPOCHS} epochs per job, {rounds} rounds");
    println!("| net | layout | train img/s (median, range) | step ms | all-reduce ms |");
    println!("|---|---|---:|---:|---:|");
    for net in nets.split(',') {
        let layouts = [(1, 2), (2, 1)];
        let mut figures: Vec<Vec<(f64, f64, f64)>> = vec![Vec::new(); layouts.len()];
        for _ in 0..rounds {
            for (slot, &(processes, threads)) in layouts.iter().enumerate() {
                if let Some(f) = job(net, steps, processes, threads) {
                    figures[slot].push(f);
                }
            }
        }
        let mut medians = Vec::new();
        for ((processes, threads), runs) in layouts.iter().zip(&figures) {
            if runs.is_empty() {
                return Err(format!("{net}: every {processes}x{threads} job failed").into());
            }
            let speeds: Vec<f64> = runs.iter().map(|r| r.0).collect();
            let (lo, hi) = speeds
                .iter()
                .fold((f64::MAX, 0.0f64), |(l, h), &s| (l.min(s), h.max(s)));
            let speed = median(speeds);
            medians.push(speed);
            println!(
                "| {net} | {processes} process{} x {threads} thread{} | {speed:.1} ({lo:.1}-{hi:.1}) | {:.1} | {:.3} |",
                if *processes > 1 { "es" } else { "" },
                if *threads > 1 { "s" } else { "" },
                median(runs.iter().map(|r| r.2).collect()),
                median(runs.iter().map(|r| r.1).collect())
            );
        }
        println!(
            "{net}: 2 processes x 1 thread / 1 process x 2 threads = {:.2}",
            medians[1] / medians[0]
        );
    }
    Ok(())
}
