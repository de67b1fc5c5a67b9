//! The lecture's siamese network on Fashion-MNIST: one tower, a network of
//! its own used as a layer and applied to both images (so both branches
//! share its weights), embeds two images; `Dense(1, sigmoid)` on
//! `abs(subtract(a, b))` says whether they show the same kind of item.
//! Trained with binary cross-entropy on pairs that are half same-class,
//! half different-class; prints the pair accuracy on pairs of test images.
//!
//! `cargo run --release --example siamese` uses the vendored subset;
//! `-- --epochs N`, `-- --full` as for the other examples.

#[allow(dead_code)] // the lecture examples use the rest
mod common;

use nn::ndarray::{Array2, Array4, Axis};
use nn::prelude::*;
use nn::rand::rngs::StdRng;
use nn::rand::{Rng, SeedableRng};
use nn::runtime::io::datasets::LabelledImages;

network! {
    /// The tower: a 28x28 greyscale image to a 64-number embedding.
    pub struct Tower {
        input image: [28, 28, 1];
        let x = MaxPooling2D(2)(Conv2D(16, 3, padding = same, activation = relu)(image));
        let x = MaxPooling2D(2)(Conv2D(32, 3, padding = same, activation = relu)(x));
        output embedding = Dense(64, activation = relu)(flatten(x));
    }

    /// Same kind of item or not, from two 28x28 greyscale images.
    pub struct Siamese {
        input left: [28, 28, 1];
        input right: [28, 28, 1];
        // One tower, applied to both images: its weights are shared.
        let tower = Tower();
        let a = tower(left);
        let b = tower(right);
        output same = Dense(1, activation = sigmoid)(abs(subtract(a, b)));
    }
}

/// One pair per image: with probability 1/2 a random image of the same
/// class (target 1), else one of another class (target 0).
fn pairs(images: &LabelledImages, rng: &mut StdRng) -> Result<(Dataset, usize), NnError> {
    let n = images.len();
    let mut by_class: Vec<Vec<usize>> = vec![Vec::new(); 10];
    for (i, &label) in images.labels.iter().enumerate() {
        by_class[label].push(i);
    }
    let mut partner = Vec::with_capacity(n);
    let mut same = Array2::<f32>::zeros((n, 1));
    for (i, &label) in images.labels.iter().enumerate() {
        let want_same = rng.random_bool(0.5);
        let class = if want_same {
            label
        } else {
            (label + rng.random_range(1..10)) % 10
        };
        let pool = &by_class[class];
        partner.push(pool[rng.random_range(0..pool.len())]);
        same[[i, 0]] = if want_same { 1.0 } else { 0.0 };
    }
    let left: Array4<f32> = images.images.clone();
    let right = images.images.select(Axis(0), &partner);
    let same_count = same.iter().filter(|&&t| t == 1.0).count();
    let data = Dataset::from_arrays(vec![left.into_dyn(), right.into_dyn()], vec![same.into_dyn()])?;
    Ok((data, same_count))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    println!("{}", Siamese::summary());
    let (dir, label) = common::data_dir(&args);
    let (train, test) = datasets::fashion_mnist(&dir)?;
    println!(
        "Fashion-MNIST, {label}: {} training and {} test images from {}",
        train.len(),
        test.len(),
        dir.display()
    );
    let mut rng = StdRng::seed_from_u64(42);
    let (train_pairs, _) = pairs(&train, &mut rng)?;
    let (test_pairs, test_same) = pairs(&test, &mut rng)?;
    let epochs = common::flag(&args, "--epochs", 5);
    let batch_size = common::flag(&args, "--batch-size", 32);

    let mut net = Siamese::new(&mut rng);
    let mut trainer =
        Trainer::new(Adam::with_betas(1e-3, 0.9, 0.999), Loss::BinaryCrossentropy).with_accuracy();
    let config = FitConfig {
        epochs,
        batch_size,
        seed: 1,
        ..FitConfig::default()
    };
    let started = std::time::Instant::now();
    let history = trainer.fit(&mut net, &train_pairs, Some(&test_pairs), &config, &mut [])?;
    println!(
        "trained {epochs} epochs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let out = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples/siamese"));
    std::fs::create_dir_all(&out)?;
    net.save_weights(out.join("weights.safetensors"))?;
    common::write_reports(&out, &history, &Siamese::dot())?;
    let accuracy = trainer
        .evaluate(&mut net, &test_pairs, 256)?
        .get("accuracy")
        .unwrap_or(0.0);
    println!(
        "pair accuracy on {} test pairs ({test_same} of the same class)",
        test_pairs.len()
    );
    println!("test accuracy: {accuracy:.4}");
    Ok(())
}
