//! The lecture's residual network trained on Fashion-MNIST by several MPI
//! processes at once (data parallelism; feature `mpi`).
//!
//! ```text
//! cargo build --release --features mpi --example mpi_residual
//! mpirun -np 2 target/release/examples/mpi_residual [--epochs N] [--batch-size N] [--full]
//! ```
//!
//! `--batch-size` is the global batch (default 32): each of the p processes
//! takes 1/p of it. Rank 0 prints the progress and writes the weights and the
//! curves under `target/examples/mpi_residual/`; every rank reports the test
//! accuracy, computed over all ranks together.

#[path = "networks/fashion_residual.rs"]
mod fashion_residual;

#[allow(dead_code)] // the lecture examples use the rest
mod common;

use fashion_residual::ResidualNet;
use nn::prelude::*;
use nn::rand::SeedableRng;
use nn::runtime::train::distributed;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let epochs = common::flag(&args, "--epochs", 5);
    let batch_size = common::flag(&args, "--batch-size", 32);
    distributed::run(|replicas| -> Result<(), Box<dyn std::error::Error>> {
        // Every rank reads the same files; rank 0's initial weights win.
        let (dir, label) = common::data_dir(&args);
        let (train, test) = datasets::fashion_mnist(&dir)?;
        let train = Dataset::new(train.images, one_hot(&train.labels, 10)?)?;
        let test = Dataset::new(test.images, one_hot(&test.labels, 10)?)?;
        if replicas.is_root() {
            println!(
                "Fashion-MNIST, {label}: {} training and {} test images; {} processes, global batch {batch_size}",
                train.len(),
                test.len(),
                replicas.size()
            );
        }
        let mut net = ResidualNet::new(&mut nn::rand::rngs::StdRng::seed_from_u64(42));
        let mut trainer =
            Trainer::new(Adam::with_betas(1e-3, 0.9, 0.999), Loss::CategoricalCrossentropy).with_accuracy();
        let config = FitConfig {
            epochs,
            batch_size,
            seed: 1,
            ..FitConfig::default()
        };
        let started = std::time::Instant::now();
        let history = trainer.fit_distributed(&mut net, &train, Some(&test), &config, &mut [], replicas)?;
        let accuracy = trainer.evaluate_distributed(&mut net, &test, 256, replicas)?;
        if replicas.is_root() {
            println!(
                "trained {epochs} epochs in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            let out = std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/examples/mpi_residual"
            ));
            std::fs::create_dir_all(&out)?;
            net.save_weights(out.join("weights.safetensors"))?;
            common::write_reports(&out, &history, &ResidualNet::dot())?;
        }
        println!(
            "rank {}: test accuracy: {:.4}",
            replicas.rank(),
            accuracy.get("accuracy").unwrap_or(0.0)
        );
        Ok(())
    })?;
    Ok(())
}
