//! Batch-1 forward time of each `nn::applications` network: the median of
//! several predictions of one image after a warm-up, with the parameter
//! counts beside it. Beside the wall time, the process's CPU time per
//! prediction (Linux, from `/proc/self/stat`): on a shared, overloaded
//! machine the wall time mostly measures waiting for a core, and with
//! `NN_NUM_THREADS=1` the CPU time is the forward pass's own work.
//!
//! `cargo run --release --features applications --example applications -- [--runs N] [--nets vgg16,resnet50,...] [--keras DIR]`
//!
//! With `--keras DIR` (files made by `tools/keras/make_application_outputs.py`),
//! each network then loads Keras-saved weights and predicts Keras's images;
//! the line ends with the largest difference from Keras's probabilities.

use std::path::{Path, PathBuf};
use std::time::Instant;

use nn::applications::{DenseNet121, InceptionV3, MobileNetV2, ResNet50, VGG16};
use nn::ndarray::{Array2, Array4};
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

/// Loads `DIR/<name>.safetensors` (Keras-saved weights, see
/// `tools/keras/make_application_outputs.py`), predicts the images in
/// `DIR/<name>_io.safetensors` and returns the largest absolute and relative
/// differences from Keras's probabilities.
fn compare_with_keras<M: Model>(
    net: &mut M,
    dir: &Path,
    name: &str,
    predict: &impl Fn(&mut M, &Array4<f32>) -> Result<Array2<f32>, NnError>,
) -> Result<(f32, f32), NnError> {
    net.load_keras_weights(dir.join(format!("{name}.safetensors")))?;
    let io_path = dir.join(format!("{name}_io.safetensors"));
    let bytes = std::fs::read(&io_path).map_err(|e| NnError::io("read", &io_path, e))?;
    let io = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| NnError::invalid_file(io_path.display(), None, e.to_string()))?;
    let tensor = |key: &str| -> Result<(Vec<usize>, Vec<f32>), NnError> {
        let t = io
            .tensor(key)
            .map_err(|e| NnError::invalid_file(io_path.display(), None, format!("`{key}`: {e}")))?;
        let values = t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        Ok((t.shape().to_vec(), values))
    };
    let (shape, x) = tensor("x")?;
    let (_, keras) = tensor("y")?;
    let x = Array4::from_shape_vec((shape[0], shape[1], shape[2], shape[3]), x)
        .map_err(|e| NnError::invalid_file(io_path.display(), None, format!("`x`: {e}")))?;
    let ours = predict(net, &x)?;
    let mut largest = (0f32, 0f32);
    for (a, b) in ours.iter().zip(&keras) {
        largest.0 = largest.0.max((a - b).abs());
        largest.1 = largest.1.max((a - b).abs() / b.abs().max(f32::MIN_POSITIVE));
    }
    Ok(largest)
}

/// Times one network and, with `--keras DIR`, compares it with Keras.
fn measure<M: Model>(
    name: &str,
    mut net: M,
    size: usize,
    runs: usize,
    keras: Option<&Path>,
    predict: impl Fn(&mut M, &Array4<f32>) -> Result<Array2<f32>, NnError>,
) -> Result<(), NnError> {
    let params = M::SPEC.total_count();
    let (wall, cpu) = time_forward(&mut net, &image(size), runs, |n, x| Ok(predict(n, x)?.len()))?;
    let cpu = cpu.map_or("n/a".to_string(), |c| format!("{c:.1}"));
    print!("{name:<12} {params:>11}   {wall:>14.1}   {cpu:>14}");
    if let Some(dir) = keras {
        let (abs, rel) = compare_with_keras(&mut net, dir, name, &predict)?;
        print!("   Keras's weights: largest difference {abs:.2e} ({rel:.2e} relative)");
    }
    println!();
    Ok(())
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
    let nets =
        value("--nets").unwrap_or_else(|| "vgg16,resnet50,inception_v3,mobilenet_v2,densenet121".into());
    let keras = value("--keras").map(PathBuf::from);
    let keras = keras.as_deref();
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(0);
    println!(
        "batch-1 forward, {runs} runs after a warm-up; {} threads",
        nn::runtime::threads::current()
    );
    println!("network           params   wall median ms   CPU ms per run");
    for name in nets.split(',') {
        match name {
            "vgg16" => measure(name, VGG16::new(&mut rng), 224, runs, keras, |n, x| {
                n.predict(x.view())
            })?,
            "resnet50" => measure(name, ResNet50::new(&mut rng), 224, runs, keras, |n, x| {
                n.predict(x.view())
            })?,
            "inception_v3" => measure(name, InceptionV3::new(&mut rng), 299, runs, keras, |n, x| {
                n.predict(x.view())
            })?,
            "mobilenet_v2" => measure(name, MobileNetV2::new(&mut rng), 224, runs, keras, |n, x| {
                n.predict(x.view())
            })?,
            "densenet121" => measure(name, DenseNet121::new(&mut rng), 224, runs, keras, |n, x| {
                n.predict(x.view())
            })?,
            other => {
                eprintln!("unknown network `{other}`; expected vgg16, resnet50, inception_v3, mobilenet_v2, densenet121");
                std::process::exit(2);
            }
        }
    }
    Ok(())
}
