//! Training from an image folder streamed by the prefetching loader gives
//! bit-identical weights to training on the same folder loaded into memory;
//! evaluation likewise; augmentation touches training batches only; bad
//! files stop training by name or are skipped and counted.

mod common;

use std::path::{Path, PathBuf};

use nn::prelude::*;
use nn::runtime::io::datasets::idx_pair;
use nn::runtime::io::image_folder::{BadFiles, ColorMode, ImageFolder, ImageFolderOptions};
use nn::runtime::io::png_export::export_png_folder;
use nn::runtime::train::{Augmentation, Flip, StreamConfig};

network! {
    struct Fashion {
        input image: [28, 28, 1];
        let h = Conv2D(4, 3, strides = 2, activation = relu)(image);
        output class = Dense(10, activation = softmax)(flatten(h));
    }
}

const NAMES: [&str; 10] = [
    "tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot",
];

fn folder(test: &str, per_class: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nn_folder_training_{test}_{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let data = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/data/fashion-mnist-subset"));
    let set = idx_pair(
        &data.join("t10k-images-idx3-ubyte.gz"),
        &data.join("t10k-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    export_png_folder(&dir, &set, &NAMES, per_class).unwrap();
    dir
}

fn options() -> ImageFolderOptions {
    ImageFolderOptions {
        image_size: (28, 28),
        color_mode: ColorMode::Grayscale,
        validation_split: Some(0.2),
        seed: 5,
        ..ImageFolderOptions::default()
    }
}

fn config() -> FitConfig {
    FitConfig {
        epochs: 2,
        batch_size: 16,
        seed: 9,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    }
}

fn trainer() -> Trainer<Adam> {
    Trainer::new(Adam::new(1e-2), Loss::SparseCategoricalCrossentropy).with_accuracy()
}

#[test]
fn streamed_training_equals_in_memory_training() {
    let dir = folder("equal", 10);
    let (train, valid) = ImageFolder::open(&dir, options()).unwrap().split().unwrap();
    let mut streamed = Fashion::new(&mut common::rng(1));
    let stream = StreamConfig {
        prefetch: 2,
        ..StreamConfig::default()
    };
    let (history, stats) = trainer()
        .fit_folder(&mut streamed, &train, Some(&valid), &config(), &stream, &mut [])
        .unwrap();
    assert_eq!(stats.batches, 2 * 80usize.div_ceil(16));
    assert_eq!(stats.skipped, 0);

    let (train_set, _) = train.load().unwrap();
    let (valid_set, _) = valid.load().unwrap();
    let mut in_memory = Fashion::new(&mut common::rng(1));
    let expected = trainer()
        .fit(&mut in_memory, &train_set, Some(&valid_set), &config(), &mut [])
        .unwrap();
    assert_eq!(streamed.params(), in_memory.params());
    assert_eq!(history, expected);
    let t = trainer();
    assert_eq!(
        t.evaluate_folder(&mut streamed, &valid, 7).unwrap(),
        t.evaluate(&mut in_memory, &valid_set, 7).unwrap()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn augmentation_changes_training_only_and_is_seeded() {
    let dir = folder("augment", 6);
    let (train, valid) = ImageFolder::open(&dir, options()).unwrap().split().unwrap();
    let stream = StreamConfig {
        prefetch: 3,
        augmentation: Some(Augmentation {
            flip: Some(Flip::Horizontal),
            rotation: 0.05,
            translation: (0.1, 0.1),
            zoom: 0.1,
            contrast: 0.2,
        }),
    };
    let run = |stream: &StreamConfig| {
        let mut net = Fashion::new(&mut common::rng(2));
        let (history, _) = trainer()
            .fit_folder(&mut net, &train, Some(&valid), &config(), stream, &mut [])
            .unwrap();
        (net.params().to_vec(), history)
    };
    let (a, _) = run(&stream);
    let (b, _) = run(&stream);
    assert_eq!(a, b, "same seed, same augmented training");
    let (plain, _) = run(&StreamConfig::default());
    assert_ne!(a, plain, "augmentation changed the training batches");

    // In-memory fit with the same augmentation trains identically.
    let (train_set, _) = train.load().unwrap();
    let (valid_set, _) = valid.load().unwrap();
    let mut in_memory = Fashion::new(&mut common::rng(2));
    let config = FitConfig {
        augmentation: stream.augmentation.clone(),
        ..config()
    };
    trainer()
        .fit(&mut in_memory, &train_set, Some(&valid_set), &config, &mut [])
        .unwrap();
    assert_eq!(in_memory.params(), &a[..]);
    // fit_folder takes augmentation from StreamConfig only: no silent choice.
    let mut net = Fashion::new(&mut common::rng(2));
    let err = trainer()
        .fit_folder(&mut net, &train, None, &config, &StreamConfig::default(), &mut [])
        .unwrap_err()
        .to_string();
    assert!(err.contains("StreamConfig::augmentation"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_files_stop_training_by_name_or_are_skipped() {
    let dir = folder("bad", 3);
    std::fs::write(
        dir.join("bag").join("zz_corrupt.png"),
        b"\x89PNG\r\n\x1a\nnot really",
    )
    .unwrap();
    let strict = ImageFolder::open(
        &dir,
        ImageFolderOptions {
            validation_split: None,
            ..options()
        },
    )
    .unwrap();
    let mut net = Fashion::new(&mut common::rng(3));
    let err = trainer()
        .fit_folder(
            &mut net,
            &strict,
            None,
            &config(),
            &StreamConfig::default(),
            &mut [],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("zz_corrupt.png"), "{err}");

    let lenient = ImageFolder::open(
        &dir,
        ImageFolderOptions {
            validation_split: None,
            bad_files: BadFiles::Skip,
            ..options()
        },
    )
    .unwrap();
    let (history, stats) = trainer()
        .fit_folder(
            &mut net,
            &lenient,
            None,
            &config(),
            &StreamConfig::default(),
            &mut [],
        )
        .unwrap();
    assert_eq!(stats.skipped, 2, "one bad file, seen in each of 2 epochs");
    assert_eq!(history.epochs.len(), 2);

    // A folder that does not fit the network is refused up front.
    let wrong = ImageFolder::open(
        &dir,
        ImageFolderOptions {
            color_mode: ColorMode::Rgb,
            validation_split: None,
            ..options()
        },
    )
    .unwrap();
    let err = trainer()
        .fit_folder(
            &mut net,
            &wrong,
            None,
            &config(),
            &StreamConfig::default(),
            &mut [],
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("[28, 28, 3]") && err.contains("color_mode"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
