//! What the lecture examples share: loading Fashion-MNIST (vendored subset or
//! the full set), training with the lecture's settings, and writing the
//! weights, curves and graph.

#[allow(dead_code)] // only the localization example and its test use it
pub mod localization;

use std::path::{Path, PathBuf};
use std::time::Instant;

use nn::prelude::*;
use nn::runtime::io::datasets::LabelledImages;
use nn::runtime::report::curves;

/// Where the data comes from: `--full` or `NN_FASHION_DIR` selects the full
/// set (Debian's `dataset-fashion-mnist`); by default the vendored subset.
pub fn data_dir(args: &[String]) -> (PathBuf, &'static str) {
    if let Ok(dir) = std::env::var("NN_FASHION_DIR") {
        return (PathBuf::from(dir), "full set (NN_FASHION_DIR)");
    }
    if args.iter().any(|a| a == "--full") {
        return (PathBuf::from("/usr/share/datasets/fashion-mnist"), "full set");
    }
    (
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/fashion-mnist-subset")),
        "vendored subset (1,000 train and 200 test images per class)",
    )
}

/// `--epochs N`, `--batch-size N`, else the defaults.
pub fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn to_dataset(images: &LabelledImages) -> Result<Dataset, NnError> {
    Dataset::new(images.images.clone(), one_hot(&images.labels, 10)?)
}

pub struct Run {
    pub train: Dataset,
    pub test: Dataset,
    pub out: PathBuf,
}

/// Loads the data and prepares the output folder `target/examples/<name>`.
pub fn prepare(name: &str, args: &[String]) -> Result<Run, Box<dyn std::error::Error>> {
    let (dir, label) = data_dir(args);
    let (train, test) = datasets::fashion_mnist(&dir).map_err(|e| {
        format!(
            "{e}\n(the full set comes from `apt-get install dataset-fashion-mnist`; \
             without --full the vendored subset in data/ is used)"
        )
    })?;
    println!(
        "Fashion-MNIST, {label}: {} training and {} test images from {}",
        train.len(),
        test.len(),
        dir.display()
    );
    let out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples")).join(name);
    std::fs::create_dir_all(&out)?;
    Ok(Run {
        train: to_dataset(&train)?,
        test: to_dataset(&test)?,
        out,
    })
}

/// Writes the curves (CSV and SVG) and the graph (DOT, and SVG when
/// Graphviz's `dot` is installed).
pub fn write_reports(out: &Path, history: &History, dot: &str) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::write(out.join("history.csv"), history.to_csv())?;
    std::fs::write(out.join("curves.svg"), curves::svg(history))?;
    let dot_path = out.join("graph.dot");
    std::fs::write(&dot_path, dot)?;
    let picture = std::process::Command::new("dot")
        .arg("-Tsvg")
        .arg(&dot_path)
        .arg("-o")
        .arg(out.join("graph.svg"))
        .status();
    let graph_note = match picture {
        Ok(s) if s.success() => "graph.dot, graph.svg",
        _ => "graph.dot (install graphviz for graph.svg)",
    };
    println!(
        "wrote {}: weights.safetensors, history.csv, curves.svg, {graph_note}",
        out.display()
    );
    Ok(())
}

/// The lecture's training: Adam(1e-3, 0.9, 0.999), categorical
/// cross-entropy, accuracy, validation on the test images. Saves the
/// weights, reloads them into a fresh network and checks the accuracy.
pub fn train_and_report<M: Model>(
    net: &mut M,
    fresh: M,
    run: &Run,
    epochs: usize,
    batch_size: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut trainer =
        Trainer::new(Adam::with_betas(1e-3, 0.9, 0.999), Loss::CategoricalCrossentropy).with_accuracy();
    let config = FitConfig {
        epochs,
        batch_size,
        seed: 1,
        ..FitConfig::default()
    };
    let started = Instant::now();
    let history = trainer.fit(net, &run.train, Some(&run.test), &config, &mut [])?;
    println!(
        "trained {epochs} epochs in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let weights = run.out.join("weights.safetensors");
    net.save_weights(&weights)?;
    write_reports(&run.out, &history, &M::dot())?;

    let mut reloaded = fresh;
    reloaded.load_weights(&weights)?;
    let again = trainer.evaluate(&mut reloaded, &run.test, 256)?;
    let accuracy = trainer
        .evaluate(net, &run.test, 256)?
        .get("accuracy")
        .unwrap_or(0.0);
    println!(
        "reloaded weights: test accuracy {:.4} (trained network: {accuracy:.4})",
        again.get("accuracy").unwrap_or(0.0)
    );
    println!("test accuracy: {accuracy:.4}");
    Ok(())
}
