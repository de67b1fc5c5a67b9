//! Speed and memory of the lecture's two networks (64x64x3 input, 6 classes),
//! measured the way `../shared/bench` measures the peer frameworks:
//!
//! - train b32: forward + categorical cross-entropy + backward + Adam update,
//!   images/s (median step after warm-up);
//! - infer b32: forward on 32 images, images/s;
//! - latency b1: forward on one image, ms;
//! - peak RSS of a training process (VmHWM), MiB.
//!
//! Every (network, threads, mode) runs in its own process, so the thread
//! count is set before anything starts and peak memory is per measurement.
//!
//! `cargo run --release --example bench -- [--threads 1,2] [--nets resnet,inception] [--quick]`
//!
//! With `--peers DIR` (a writable copy of `../shared/bench` whose Rust peer
//! binaries were built as its README says), the same invocation also runs
//! each peer that is built (burn-flex, burn-ndarray, candle, dfdx; residual
//! network only) for the same thread counts and prints nn's ratio to each.

#[path = "networks/lecture.rs"]
mod lecture;

use std::process::Command;
use std::time::Instant;

use lecture::{InceptionNet, ResidualNet};
use nn::prelude::*;
use nn::rand::SeedableRng;

const BATCH: usize = 32;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time_it(warm: usize, iters: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..warm {
        f();
    }
    median(
        (0..iters)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn vm_hwm_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|x| x.parse::<f64>().ok()))
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn images(n: usize) -> Vec<f32> {
    (0..n * 64 * 64 * 3)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect()
}

/// Runs one measurement in this process and prints its RESULT line.
fn worker<M: Model>(new: fn(&mut nn::rand::rngs::StdRng) -> M, net_name: &str, mode: &str, quick: bool) {
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(1);
    let mut net = new(&mut rng);
    let (warm, iters) = if quick { (1, 3) } else { (3, 20) };
    let (seconds, batch) = match mode {
        "train" => {
            let x = images(BATCH);
            let y: Vec<f32> = (0..BATCH * 6)
                .map(|i| if i % 6 == (i / 6) % 6 { 1.0 } else { 0.0 })
                .collect();
            let mut grads = vec![vec![0.0; BATCH * 6]];
            let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
            let s = time_it(warm, iters, || {
                trainer
                    .train_step(&mut net, BATCH, &[&x], &[&y], &mut grads)
                    .expect("train step");
            });
            (s, BATCH)
        }
        "infer" => {
            let x = images(BATCH);
            let s = time_it(warm, iters.max(10), || {
                net.forward_slices(BATCH, &[&x], Mode::Infer).expect("forward")
            });
            (s, BATCH)
        }
        _ => {
            let x = images(1);
            let s = time_it(warm * 3, iters * 5, || {
                net.forward_slices(1, &[&x], Mode::Infer).expect("forward")
            });
            (s, 1)
        }
    };
    println!(
        "RESULT net={net_name} mode={mode} threads={} median_ms={:.3} img_per_s={:.1} peak_rss_mib={:.1}",
        nn::runtime::threads::current(),
        seconds * 1e3,
        batch as f64 / seconds,
        vm_hwm_mib()
    );
}

/// The peers' binaries under a copy of `../shared/bench`, where built.
fn peer_binaries(dir: &std::path::Path) -> Vec<(&'static str, std::path::PathBuf)> {
    [
        ("burn-flex", "rust/burn-bench/target/flex/release/burn-bench"),
        ("burn-ndarray", "rust/burn-bench/target/release/burn-bench"),
        ("candle", "rust/candle-bench/target/release/candle-bench"),
        ("dfdx", "rust/dfdx-bench/target/release/dfdx-bench"),
    ]
    .into_iter()
    .map(|(name, rel)| (name, dir.join(rel)))
    .filter(|(_, path)| path.is_file())
    .collect()
}

/// One peer figure: (img/s or ms, peak RSS MiB) from its RESULT line.
fn run_peer(bin: &std::path::Path, mode: &str, iters: usize, threads: &str) -> Option<(f64, f64)> {
    let out = Command::new(bin)
        .args([mode, &iters.to_string()])
        .env("RAYON_NUM_THREADS", threads)
        .env("MATMUL_NUM_THREADS", threads)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("RESULT"))?;
    let value = match mode {
        "lat" => field(line, "median_ms")?,
        _ => field(line, "img_per_s")?,
    };
    let rss_kb: f64 = field(line, "vmhwm_kb")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    Some((value.parse().ok()?, rss_kb / 1024.0))
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(i) = args.iter().position(|a| a == "--worker") {
        let (net, threads, mode) = (&args[i + 1], &args[i + 2], &args[i + 3]);
        nn::runtime::threads::set(threads.parse().expect("thread count"));
        match net.as_str() {
            "resnet" => worker(ResidualNet::new, net, mode, quick),
            _ => worker(InceptionNet::new, net, mode, quick),
        }
        return;
    }
    let list = |flag: &str, default: &str| -> Vec<String> {
        let v = args
            .iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .map_or(default, |s| s.as_str());
        v.split(',').map(str::to_string).collect()
    };
    let nets = list("--nets", "resnet,inception");
    let threads = list("--threads", "1,2");
    println!("batch {BATCH}; medians after warm-up; one process per figure");
    println!("| net | threads | train b32 img/s | infer b32 img/s | latency b1 ms | peak RSS train MiB |");
    println!("|---|---|---:|---:|---:|---:|");
    let me = std::env::current_exe().expect("own path");
    let mut ours: Vec<(String, String, Vec<f64>)> = Vec::new();
    for net in &nets {
        for t in &threads {
            let mut row = Vec::new();
            let mut rss = String::from("n/a");
            for mode in ["train", "infer", "lat"] {
                let mut cmd = Command::new(&me);
                cmd.args(["--worker", net, t, mode]);
                if quick {
                    cmd.arg("--quick");
                }
                let out = cmd.output().expect("run worker");
                let text = String::from_utf8_lossy(&out.stdout);
                let line = text.lines().find(|l| l.starts_with("RESULT")).unwrap_or("");
                let value = match mode {
                    "lat" => field(line, "median_ms").unwrap_or("n/a").to_string(),
                    _ => field(line, "img_per_s").unwrap_or("n/a").to_string(),
                };
                if mode == "train" {
                    rss = field(line, "peak_rss_mib").unwrap_or("n/a").to_string();
                }
                row.push(value);
            }
            println!("| {net} | {t} | {} | {} | {} | {rss} |", row[0], row[1], row[2]);
            let mut figures: Vec<f64> = row.iter().map(|v| v.parse().unwrap_or(f64::NAN)).collect();
            figures.push(rss.parse().unwrap_or(f64::NAN));
            ours.push((net.clone(), t.clone(), figures));
        }
    }
    let Some(dir) = args
        .iter()
        .position(|a| a == "--peers")
        .and_then(|i| args.get(i + 1))
    else {
        return;
    };
    let peers = peer_binaries(std::path::Path::new(dir));
    if peers.is_empty() {
        println!("\nno peer binaries built under {dir} (see its README)");
        return;
    }
    println!("\nresidual network, same run: peers' figures and nn's ratio (train and infer: nn/peer; latency and RSS: peer/nn)");
    println!("| peer | threads | train b32 img/s | infer b32 img/s | latency b1 ms | peak RSS train MiB | nn ratio train / infer / latency / RSS |");
    println!("|---|---|---:|---:|---:|---:|---|");
    let iters = if quick { 3 } else { 20 };
    for (name, bin) in &peers {
        for t in &threads {
            let train = run_peer(bin, "train", iters, t);
            let infer = run_peer(bin, "infer", iters.max(10), t);
            let lat = run_peer(bin, "lat", iters * 5, t);
            let Some((_, _, nn)) = ours.iter().find(|(n, th, _)| n == "resnet" && th == t) else {
                continue;
            };
            let show = |v: Option<(f64, f64)>| v.map_or("n/a".to_string(), |(x, _)| format!("{x:.1}"));
            let ratio = |ours: f64, theirs: Option<(f64, f64)>, invert: bool| {
                theirs.map_or("n/a".to_string(), |(x, _)| {
                    format!("{:.2}x", if invert { x / ours } else { ours / x })
                })
            };
            let rss = train.map(|(_, r)| (r, r));
            println!(
                "| {name} | {t} | {} | {} | {} | {} | {} / {} / {} / {} |",
                show(train),
                show(infer),
                lat.map_or("n/a".to_string(), |(x, _)| format!("{x:.2}")),
                rss.map_or("n/a".to_string(), |(r, _)| format!("{r:.0}")),
                ratio(nn[0], train, false),
                ratio(nn[1], infer, false),
                ratio(nn[2], lat, true),
                ratio(nn[3], rss, true),
            );
        }
    }
}
