//! Trains a small network on your own folder of images, as Keras's
//! `image_dataset_from_directory` + `fit`:
//!
//! ```text
//! cargo run --release --example folder -- DIR [--epochs N] [--augment] [--bench]
//! cargo run --release --example folder -- --make-fashion DIR   # writes a PNG folder, then trains
//! ```
//!
//! `DIR` holds one sub-folder of PNG/JPEG files per class; if it has `train`
//! and `test` sub-folders, those are used, else 20% of the files (seeded)
//! are held out for the test. Images are resized to the network's 28x28
//! greyscale input (a `network!`'s shapes are fixed when it compiles).
//! Batches are decoded by a prefetching thread while the network trains.
//! `--bench` also times the loader alone and the training step alone and
//! prints both next to the streamed run's waiting time.

use std::path::{Path, PathBuf};
use std::time::Instant;

use nn::prelude::*;
use nn::rand::SeedableRng;
use nn::runtime::io::datasets::fashion_mnist;
use nn::runtime::io::png_export::export_png_folder;

network! {
    /// Two convolution blocks and a softmax over the folder's classes (up
    /// to 10).
    pub struct FolderNet {
        input image: [28, 28, 1];
        let h = Conv2D(16, 3, padding = same, activation = relu)(image);
        let h = MaxPooling2D(2)(h);
        let h = Conv2D(32, 3, padding = same, activation = relu)(h);
        let h = MaxPooling2D(2)(h);
        let h = Dropout(0.2)(flatten(h));
        output class = Dense(10, activation = softmax)(h);
    }
}

const FASHION: [&str; 10] = [
    "T-shirt",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

fn flag(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Writes the vendored Fashion-MNIST subset as `dir/train` and `dir/test`.
fn make_fashion(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let data = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/fashion-mnist-subset"));
    let (train, test) = fashion_mnist(data)?;
    let n = export_png_folder(&dir.join("train"), &train, &FASHION, usize::MAX)?;
    let m = export_png_folder(&dir.join("test"), &test, &FASHION, usize::MAX)?;
    println!(
        "wrote {n} training and {m} test PNG files under {}",
        dir.display()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir =
        if let Some(i) = args.iter().position(|a| a == "--make-fashion") {
            let dir = PathBuf::from(args.get(i + 1).ok_or("--make-fashion needs a folder")?);
            make_fashion(&dir)?;
            dir
        } else {
            PathBuf::from(args.iter().find(|a| !a.starts_with("--")).ok_or(
                "usage: folder DIR [--epochs N] [--augment] [--bench]  or  folder --make-fashion DIR",
            )?)
        };
    let epochs = flag(&args, "--epochs", 5);
    let batch_size = flag(&args, "--batch-size", 32);
    let options = ImageFolderOptions {
        image_size: (28, 28),
        color_mode: ColorMode::Grayscale,
        seed: 1,
        ..ImageFolderOptions::default()
    };
    let (train, test) = if dir.join("train").is_dir() && dir.join("test").is_dir() {
        (
            ImageFolder::open(dir.join("train"), options.clone())?,
            ImageFolder::open(dir.join("test"), options)?,
        )
    } else {
        ImageFolder::open(
            &dir,
            ImageFolderOptions {
                validation_split: Some(0.2),
                ..options
            },
        )?
        .split()?
    };
    if train.class_names.len() > 10 {
        return Err(format!(
            "this example's network has 10 outputs; {} has {} classes",
            dir.display(),
            train.class_names.len()
        )
        .into());
    }
    println!(
        "{} classes ({}); {} training and {} test images",
        train.class_names.len(),
        train.class_names.join(", "),
        train.len(),
        test.len()
    );

    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(0);
    let mut net = FolderNet::new(&mut rng);
    let mut trainer =
        Trainer::new(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy).with_metrics(&["accuracy"])?;
    let config = FitConfig {
        epochs,
        batch_size,
        verbosity: Verbosity::OneLine,
        ..FitConfig::default()
    };
    let stream = StreamConfig {
        prefetch: 4,
        augmentation: args.iter().any(|a| a == "--augment").then_some(Augmentation {
            flip: Some(Flip::Horizontal),
            rotation: 0.03,
            translation: (0.08, 0.08),
            zoom: 0.08,
            contrast: 0.1,
        }),
    };
    let started = Instant::now();
    let (history, stats) = trainer.fit_folder(&mut net, &train, Some(&test), &config, &stream, &mut [])?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "streamed fit: {} steps in {seconds:.1} s (with validation); training {:.1} ms/step, \
         waiting for the loader {:.3} ms/step ({:.2} s in all)",
        stats.batches,
        stats.training.as_secs_f64() * 1e3 / stats.batches as f64,
        stats.waiting.as_secs_f64() * 1e3 / stats.batches as f64,
        stats.waiting.as_secs_f64()
    );

    let out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/examples/folder"));
    std::fs::create_dir_all(&out)?;
    curves::save(&history, &out.join("curves"))?;
    println!("curves: {0}/curves.svg and {0}/curves.png", out.display());
    let matrix = trainer.confusion_matrix_folder(&mut net, &test, batch_size)?;
    println!("confusion matrix on the test images:\n{matrix}");
    std::fs::write(out.join("confusion.svg"), matrix.svg())?;

    let logs = trainer.evaluate_folder(&mut net, &test, batch_size)?;
    if args.iter().any(|a| a == "--bench") {
        // Trains further: after the test figures are taken.
        bench(&train, &mut net, &mut trainer, batch_size)?;
    }
    println!("test accuracy: {:.4}", logs.get("accuracy").unwrap_or(f64::NAN));
    Ok(())
}

/// The loader alone (decoding a batch on one thread, as the prefetcher
/// does) against the training step alone on the same batches in memory.
fn bench(
    train: &ImageFolder,
    net: &mut FolderNet,
    trainer: &mut Trainer<Adam>,
    batch: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let batches = (train.len() / batch).min(100);
    let (image_len, label_len) = (train.image_len(), train.label_len());
    let mut images = vec![0.0f32; batch * image_len];
    let mut labels = vec![0.0f32; batch * label_len];
    let mut decode_ms = Vec::new();
    let mut step_ms = Vec::new();
    let mut grads = vec![vec![0.0; batch * 10]];
    for b in 0..batches {
        let started = Instant::now();
        for k in 0..batch {
            let i = b * batch + k;
            train.decode_into(i, &mut images[k * image_len..(k + 1) * image_len])?;
            train.write_label(train.files[i].1, &mut labels[k * label_len..(k + 1) * label_len]);
        }
        decode_ms.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        trainer.train_step(net, batch, &[&images], &[&labels], &mut grads)?;
        step_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let (decode, step) = (median(decode_ms), median(step_ms));
    println!(
        "bench over {batches} batches of {batch}: loader {decode:.2} ms/batch ({:.0} images/s on one thread), \
         training step {step:.2} ms/batch; loader/step = {:.2}",
        batch as f64 / decode * 1e3,
        decode / step
    );
    Ok(())
}
