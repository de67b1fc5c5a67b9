//! Speed and memory of the lecture's two networks (64x64x3 input, 6 classes)
//! and of ResNet-50 at 224x224x3 (1000 classes), measured the way
//! `tools/bench/peers.py` measures the Python frameworks:
//!
//! - train: forward + categorical cross-entropy + backward + Adam update,
//!   images/s (median step after warm-up); batch 32 (ResNet-50: 8);
//! - infer: forward on a batch of 32 (ResNet-50: 8), images/s;
//! - b1: forward on one image, ms;
//! - peak RSS (VmHWM) of the training and of the inference process, MiB.
//!
//! Every (network, threads, mode) runs in its own process, so the thread
//! count is set before anything starts and peak memory is per measurement.
//!
//! `cargo run --release --example bench -- [--threads 1,2] [--nets resnet,inception,resnet50] [--quick]`
//!
//! With `--python PY` (or `NN_BENCH_PYTHON=PY`; `--peers PY` also works), a
//! Python with torch and tensorflow-cpu as `../shared/bench/README.md`
//! installs them, the same invocation runs the Python peers one after
//! another after nn, each in its own process with the same thread count:
//! Keras/TF (tf.function), torch eager channels_last and torch.compile
//! channels_last (`--frameworks keras,torch,torch-compile` to choose). It
//! then prints one table per thread count with nn's ratio to the best peer
//! of each column. `--quick` (fewer iterations) keeps a run with every peer
//! at about ten minutes.
//!
//! With `--peers DIR` (a writable copy of `../shared/bench` whose Rust peer
//! binaries were built as its README says), it also runs each Rust peer
//! that is built (burn-flex, burn-ndarray, candle, dfdx; residual network
//! only) for the same thread counts and prints nn's ratio to each.

#[path = "networks/lecture.rs"]
mod lecture;
/// keras.applications's ResNet50 (224x224x3, 1000 classes), the same file
/// `nn::applications` compiles, included so the bench needs no feature.
#[path = "../src/applications/resnet50.rs"]
mod resnet50;

use std::process::Command;
use std::time::Instant;

use lecture::{InceptionNet, ResidualNet};
use nn::prelude::*;
use nn::rand::SeedableRng;
// `crate::network`, which the included ResNet50 file names.
use nn::network;
use resnet50::ResNet50;

/// Batch of the lecture nets' train and infer figures.
const BATCH: usize = 32;
/// Batch of ResNet-50@224's train and infer figures (as in `../shared/bench`).
const BATCH_224: usize = 8;

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

/// `n` deterministic images of `len` floats each.
fn images(n: usize, len: usize) -> Vec<f32> {
    (0..n * len)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect()
}

/// Runs one measurement in this process and prints its RESULT line.
fn worker<M: Model>(new: fn(&mut nn::rand::rngs::StdRng) -> M, net_name: &str, mode: &str, quick: bool) {
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(1);
    let mut net = new(&mut rng);
    let (input_len, classes) = (M::SPEC.inputs[0].len(), M::SPEC.outputs[0].len());
    let large = input_len > 64 * 64 * 3;
    let batch_size = if large { BATCH_224 } else { BATCH };
    let (warm, iters) = match (quick, large) {
        (true, _) => (1, 3),
        (false, true) => (2, 7),
        (false, false) => (3, 20),
    };
    let (seconds, batch) = match mode {
        "train" => {
            let x = images(batch_size, input_len);
            let y: Vec<f32> = (0..batch_size * classes)
                .map(|i| {
                    if i % classes == (i / classes) % classes {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            let mut grads = vec![vec![0.0; batch_size * classes]];
            let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
            let s = time_it(warm, iters, || {
                trainer
                    .train_step(&mut net, batch_size, &[&x], &[&y], &mut grads)
                    .expect("train step");
            });
            (s, batch_size)
        }
        "infer" => {
            let x = images(batch_size, input_len);
            let s = time_it(warm, iters.max(10), || {
                net.forward_slices(batch_size, &[&x], Mode::Infer)
                    .expect("forward")
            });
            (s, batch_size)
        }
        _ => {
            let x = images(1, input_len);
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

/// One row of a table: train img/s, infer img/s, b1 ms, train RSS MiB,
/// infer RSS MiB (NaN where a measurement failed).
type Figures = [f64; 5];

/// nn's figures for `net` at `threads`, one worker process per mode.
fn run_nn(net: &str, threads: &str, quick: bool) -> Figures {
    let me = std::env::current_exe().expect("own path");
    let mut figures = [f64::NAN; 5];
    for mode in ["train", "infer", "lat"] {
        let mut cmd = Command::new(&me);
        cmd.args(["--worker", net, threads, mode]);
        if quick {
            cmd.arg("--quick");
        }
        let out = cmd.output().expect("run worker");
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text.lines().find(|l| l.starts_with("RESULT")).unwrap_or("");
        let number = |key| field(line, key).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN);
        match mode {
            "train" => {
                figures[0] = number("img_per_s");
                figures[3] = number("peak_rss_mib");
            }
            "infer" => {
                figures[1] = number("img_per_s");
                figures[4] = number("peak_rss_mib");
            }
            _ => figures[2] = number("median_ms"),
        }
        if !out.status.success() {
            eprintln!(
                "nn worker {net} {threads} {mode} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    figures
}

/// A Python peer's figures from `tools/bench/peers.py`, or `None` (with the
/// reason on stderr) when it failed.
fn run_python_peer(python: &str, framework: &str, net: &str, threads: &str, quick: bool) -> Option<Figures> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/bench/peers.py");
    let mut cmd = Command::new(python);
    cmd.args([script, framework, net, threads])
        .env("OMP_NUM_THREADS", threads)
        .env("MKL_NUM_THREADS", threads)
        .env("TF_CPP_MIN_LOG_LEVEL", "2");
    if quick {
        cmd.arg("--quick");
    }
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            eprintln!("cannot run {python}: {e}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(line) = text.lines().find_map(|l| l.strip_prefix("RESULT ")) else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        eprintln!(
            "peer {framework} {net} {threads} failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
        return None;
    };
    let number = |key: &str| json_number(line, key).unwrap_or(f64::NAN);
    Some([
        number("train_img_per_s"),
        number("infer_img_per_s"),
        number("b1_ms"),
        number("train_rss_mib"),
        number("infer_rss_mib"),
    ])
}

/// The number after `"key": ` in a flat JSON object.
fn json_number(json: &str, key: &str) -> Option<f64> {
    let rest = &json[json.find(&format!("\"{key}\":"))? + key.len() + 3..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

/// Peer names as the tables show them.
fn peer_label(framework: &str) -> &str {
    match framework {
        "keras" => "Keras/TF (tf.function)",
        "torch" => "torch eager channels_last",
        "torch-compile" => "torch.compile channels_last",
        other => other,
    }
}

fn show(v: f64, decimals: usize) -> String {
    if v.is_nan() {
        "n/a".into()
    } else {
        format!("{v:.decimals$}")
    }
}

/// One table per thread count: every peer's row, nn's row and nn's ratio
/// to the best peer of each column.
fn print_peer_tables(threads: &[String], nets: &[String], rows: &[(String, String, String, Figures)]) {
    println!("\nSame run, one process per figure. nn / best peer: throughput higher is better,");
    println!("b1 latency and RSS lower is better (RSS 0.25x = a quarter of the leanest peer's).");
    for t in threads {
        println!("\n{t} thread(s); batch 32 (resnet50: 8)");
        println!("| net | framework | train img/s | infer img/s | b1 ms | peak RSS train MiB | peak RSS infer MiB |");
        println!("|---|---|---:|---:|---:|---:|---:|");
        for net in nets {
            let here: Vec<&(String, String, String, Figures)> =
                rows.iter().filter(|(n, th, _, _)| n == net && th == t).collect();
            for (_, _, who, f) in &here {
                let who = if who == "nn" { "**nn**" } else { peer_label(who) };
                println!(
                    "| {net} | {who} | {} | {} | {} | {} | {} |",
                    show(f[0], 1),
                    show(f[1], 1),
                    show(f[2], 2),
                    show(f[3], 0),
                    show(f[4], 0)
                );
            }
            let Some((_, _, _, ours)) = here.iter().find(|(_, _, who, _)| who == "nn") else {
                continue;
            };
            let peers: Vec<&Figures> = here
                .iter()
                .filter(|(_, _, who, _)| who != "nn")
                .map(|(_, _, _, f)| f)
                .collect();
            let ratio = |col: usize, higher_is_better: bool| {
                let best = peers
                    .iter()
                    .map(|f| f[col])
                    .filter(|v| v.is_finite())
                    .reduce(|a, b| if (a > b) == higher_is_better { a } else { b });
                best.map_or("n/a".to_string(), |b| format!("{:.2}x", ours[col] / b))
            };
            println!(
                "| {net} | nn / best peer | {} | {} | {} | {} | {} |",
                ratio(0, true),
                ratio(1, true),
                ratio(2, false),
                ratio(3, false),
                ratio(4, false)
            );
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(i) = args.iter().position(|a| a == "--worker") {
        let (net, threads, mode) = (&args[i + 1], &args[i + 2], &args[i + 3]);
        nn::runtime::threads::set(threads.parse().expect("thread count"));
        match net.as_str() {
            "resnet" => worker(ResidualNet::new, net, mode, quick),
            "resnet50" => worker(ResNet50::new, net, mode, quick),
            _ => worker(InceptionNet::new, net, mode, quick),
        }
        return;
    }
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let list = |flag: &str, default: &str| -> Vec<String> {
        value(flag)
            .unwrap_or_else(|| default.to_string())
            .split(',')
            .map(str::to_string)
            .collect()
    };
    let nets = list("--nets", "resnet,inception,resnet50");
    let threads = list("--threads", "1,2");
    let frameworks = list("--frameworks", "keras,torch,torch-compile");
    // `--peers` names either the Python of the Python peers or a directory
    // of Rust peers.
    let peers = value("--peers");
    let python = value("--python")
        .or_else(|| peers.clone().filter(|p| std::path::Path::new(p).is_file()))
        .or_else(|| std::env::var("NN_BENCH_PYTHON").ok().filter(|p| !p.is_empty()));
    println!("medians after warm-up; one process per figure; batch 32 (resnet50: 8)");
    println!("| net | threads | train img/s | infer img/s | latency b1 ms | peak RSS train MiB | peak RSS infer MiB |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut rows: Vec<(String, String, String, Figures)> = Vec::new();
    for t in &threads {
        for net in &nets {
            let f = run_nn(net, t, quick);
            println!(
                "| {net} | {t} | {} | {} | {} | {} | {} |",
                show(f[0], 1),
                show(f[1], 1),
                show(f[2], 3),
                show(f[3], 1),
                show(f[4], 1)
            );
            rows.push((net.clone(), t.clone(), "nn".into(), f));
            if let Some(python) = &python {
                for fw in &frameworks {
                    let started = Instant::now();
                    if let Some(f) = run_python_peer(python, fw, net, t, quick) {
                        eprintln!(
                            "  {net} {t} {fw}: train {} infer {} b1 {} ms RSS {} / {} MiB ({:.0} s)",
                            show(f[0], 1),
                            show(f[1], 1),
                            show(f[2], 2),
                            show(f[3], 0),
                            show(f[4], 0),
                            started.elapsed().as_secs_f64()
                        );
                        rows.push((net.clone(), t.clone(), fw.clone(), f));
                    }
                }
            }
        }
    }
    if python.is_some() {
        print_peer_tables(&threads, &nets, &rows);
    }
    let Some(dir) = peers.filter(|p| std::path::Path::new(p).is_dir()) else {
        return;
    };
    let rust_peers = peer_binaries(std::path::Path::new(&dir));
    if rust_peers.is_empty() {
        println!("\nno peer binaries built under {dir} (see its README)");
        return;
    }
    println!("\nresidual network, same run: peers' figures and nn's ratio (train and infer: nn/peer; latency and RSS: peer/nn)");
    println!("| peer | threads | train b32 img/s | infer b32 img/s | latency b1 ms | peak RSS train MiB | nn ratio train / infer / latency / RSS |");
    println!("|---|---|---:|---:|---:|---:|---|");
    let iters = if quick { 3 } else { 20 };
    for (name, bin) in &rust_peers {
        for t in &threads {
            let train = run_peer(bin, "train", iters, t);
            let infer = run_peer(bin, "infer", iters.max(10), t);
            let lat = run_peer(bin, "lat", iters * 5, t);
            let Some((_, _, _, nn)) = rows
                .iter()
                .find(|(n, th, who, _)| n == "resnet" && th == t && who == "nn")
            else {
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
