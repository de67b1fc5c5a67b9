//! The image-folder loader on folders of PNGs written from the vendored
//! Fashion-MNIST subset: classes from sorted folder names, pixels exactly
//! the IDX bytes, TF-style bilinear resizing, greyscale and RGB, a seeded
//! split, and corrupt files failing by name or skipped with a count.

mod common;

use std::path::{Path, PathBuf};

use nn_runtime::io::bilinear;
use nn_runtime::io::datasets::{idx_pair, LabelledImages};
use nn_runtime::io::image_folder::{self, BadFiles, ColorMode, ImageFolder, ImageFolderOptions, LabelMode};
use nn_runtime::io::png_export::export_png_folder;

/// Fashion-MNIST's classes by label; sorted, they are in another order.
const NAMES: [&str; 10] = [
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

fn fashion_test_set() -> LabelledImages {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data/fashion-mnist-subset"
    ));
    idx_pair(
        &dir.join("t10k-images-idx3-ubyte.gz"),
        &dir.join("t10k-labels-idx1-ubyte.gz"),
    )
    .unwrap()
}

/// A fresh folder per test under the system temp dir.
fn folder(test: &str, per_class: usize) -> (PathBuf, LabelledImages) {
    let dir = std::env::temp_dir().join(format!("nn_image_folder_{test}_{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    let set = fashion_test_set();
    let written = export_png_folder(&dir, &set, &NAMES, per_class).unwrap();
    assert_eq!(written, 10 * per_class);
    (dir, set)
}

fn greyscale_28(shuffle: bool) -> ImageFolderOptions {
    ImageFolderOptions {
        image_size: (28, 28),
        color_mode: ColorMode::Grayscale,
        shuffle,
        ..ImageFolderOptions::default()
    }
}

#[test]
fn classes_are_sorted_folder_names_and_pixels_are_the_idx_bytes() {
    let (dir, set) = folder("exact", 3);
    let images = ImageFolder::open(&dir, greyscale_28(false)).unwrap();
    let mut sorted = NAMES.to_vec();
    sorted.sort();
    assert_eq!(images.class_names, sorted);
    assert_eq!(images.class_names[0], "Ankle boot");
    assert_eq!(images.len(), 30);
    let (data, skipped) = images.load().unwrap();
    assert_eq!((data.len(), skipped), (30, 0));
    assert_eq!(data.inputs[0].sample_shape, vec![28, 28, 1]);
    for (k, (path, class)) in images.files.iter().enumerate() {
        // The file name is the index in the IDX set.
        let index: usize = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        assert_eq!(
            images.class_names[*class],
            NAMES[set.labels[index]],
            "{}",
            path.display()
        );
        let expected: Vec<f32> = set
            .images
            .slice(ndarray::s![index, .., .., 0])
            .iter()
            .copied()
            .collect();
        assert_eq!(
            &data.inputs[0].data[k * 784..(k + 1) * 784],
            &expected[..],
            "{}",
            path.display()
        );
        assert_eq!(data.targets[0].data[k], *class as f32);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn resized_rgb_and_one_hot_labels() {
    let (dir, _) = folder("rgb", 1);
    let options = ImageFolderOptions {
        image_size: (14, 20),
        color_mode: ColorMode::Rgb,
        label_mode: LabelMode::Categorical,
        ..ImageFolderOptions::default()
    };
    let images = ImageFolder::open(&dir, options).unwrap();
    let (data, _) = images.load().unwrap();
    assert_eq!(data.inputs[0].sample_shape, vec![14, 20, 3]);
    assert_eq!(data.targets[0].sample_shape, vec![10]);
    // Greyscale files give three equal channels, resized as bilinear does.
    let grey = ImageFolder::open(
        &dir,
        ImageFolderOptions {
            image_size: (28, 28),
            color_mode: ColorMode::Grayscale,
            ..images.options.clone()
        },
    )
    .unwrap();
    let (full, _) = grey.load().unwrap();
    let mut resized = vec![0.0; 14 * 20];
    bilinear::resize(&full.inputs[0].data[..784], (28, 28), 1, &mut resized, (14, 20));
    let first: Vec<f32> = data.inputs[0].data[..14 * 20 * 3].to_vec();
    for (i, &v) in resized.iter().enumerate() {
        assert_eq!([first[3 * i], first[3 * i + 1], first[3 * i + 2]], [v, v, v]);
    }
    let row = &data.targets[0].data[..10];
    assert_eq!(row.iter().sum::<f32>(), 1.0);
    assert_eq!(row[images.files[0].1], 1.0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bilinear_resize_matches_tensorflow_half_pixel_values() {
    // tf.image.resize([[0, 1], [2, 3]], [4, 4]) (bilinear, half-pixel
    // centres): source coordinates -0.25 (clamped), 0.25, 0.75, 1.25
    // (clamped) per axis.
    let src = [0.0, 1.0, 2.0, 3.0];
    let mut up = [0.0; 16];
    bilinear::resize(&src, (2, 2), 1, &mut up, (4, 4));
    #[rustfmt::skip]
    let expected = [
        0.0, 0.25, 0.75, 1.0,
        0.5, 0.75, 1.25, 1.5,
        1.5, 1.75, 2.25, 2.5,
        2.0, 2.25, 2.75, 3.0,
    ];
    assert_eq!(up, expected);
    // Halving samples at 0.5 and 2.5: the mean of each 2x2 block.
    let src: Vec<f32> = (0..16).map(|v| v as f32).collect();
    let mut down = [0.0; 4];
    bilinear::resize(&src, (4, 4), 1, &mut down, (2, 2));
    assert_eq!(down, [2.5, 4.5, 10.5, 12.5]);
}

#[test]
fn the_validation_split_is_seeded_disjoint_and_floored() {
    let (dir, _) = folder("split", 5);
    let options = ImageFolderOptions {
        validation_split: Some(0.25),
        seed: 42,
        ..greyscale_28(true)
    };
    let a = ImageFolder::open(&dir, options.clone()).unwrap();
    let (train, valid) = a.split().unwrap();
    // floor(0.25 * 50) = 12 for validation.
    assert_eq!((train.len(), valid.len()), (38, 12));
    let (train2, valid2) = ImageFolder::open(&dir, options.clone()).unwrap().split().unwrap();
    assert_eq!(
        (&train.files, &valid.files),
        (&train2.files, &valid2.files),
        "same seed, same split"
    );
    assert!(valid.files.iter().all(|f| !train.files.contains(f)));
    let other = ImageFolder::open(&dir, ImageFolderOptions { seed: 43, ..options }).unwrap();
    assert_ne!(
        other.split().unwrap().1.files,
        valid.files,
        "another seed, another split"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn corrupt_files_fail_by_name_or_are_skipped_and_counted() {
    let (dir, _) = folder("corrupt", 2);
    let not_png = dir.join("Bag").join("broken.png");
    std::fs::write(&not_png, b"this is not an image").unwrap();
    // A real PNG cut in half.
    let good = std::fs::read_dir(dir.join("Coat"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.join("Coat").join("truncated.png");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    // A link from a class folder to its parent is not followed (no loop).
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, dir.join("Coat").join("loop")).unwrap();
    // Other extensions are not images and are ignored, as in Keras.
    std::fs::write(dir.join("Coat").join("notes.txt"), b"ignored").unwrap();

    let strict = ImageFolder::open(&dir, greyscale_28(false)).unwrap();
    assert_eq!(strict.len(), 22);
    let err = strict.load().unwrap_err().to_string();
    assert!(
        err.contains("cannot decode") && err.contains("broken.png"),
        "{err}"
    );

    let lenient = ImageFolder::open(
        &dir,
        ImageFolderOptions {
            bad_files: BadFiles::Skip,
            ..greyscale_28(false)
        },
    )
    .unwrap();
    let (data, skipped) = lenient.load().unwrap();
    assert_eq!((data.len(), skipped), (20, 2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn folder_mistakes_are_clear_errors() {
    let dir = std::env::temp_dir().join(format!("nn_image_folder_empty_{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).unwrap();
    let err = ImageFolder::open(&dir, greyscale_28(false))
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no sub-folders"), "{err}");
    std::fs::create_dir_all(dir.join("cats")).unwrap();
    let err = ImageFolder::open(&dir, greyscale_28(false))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no .png, .jpg or .jpeg files") && err.contains("cats"),
        "{err}"
    );
    let missing = dir.join("nope");
    let err = ImageFolder::open(&missing, greyscale_28(false))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
    let err = ImageFolder::open(
        &dir,
        ImageFolderOptions {
            image_size: (0, 28),
            ..greyscale_28(false)
        },
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("image_size"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn jpeg_files_load_too() {
    let dir = std::env::temp_dir().join(format!("nn_image_folder_jpeg_{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(dir.join("flat")).unwrap();
    // A flat grey 8x8 JPEG decodes (lossy) to about the same grey.
    let pixels = vec![128u8; 8 * 8 * 3];
    image::save_buffer(
        dir.join("flat").join("a.jpg"),
        &pixels,
        8,
        8,
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    let (data, _) = ImageFolder::open(
        &dir,
        ImageFolderOptions {
            image_size: (8, 8),
            ..ImageFolderOptions::default()
        },
    )
    .unwrap()
    .load()
    .unwrap();
    assert!(data.inputs[0]
        .data
        .iter()
        .all(|&v| (v - 128.0 / 255.0).abs() < 3.0 / 255.0));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn decode_into_a_buffer_of_another_size_is_an_error() {
    // `decode` copied a same-size image with `copy_from_slice`, which
    // panicked on a destination of another length.
    let dir = common::TempDir::new("decode-size");
    export_png_folder(dir.path(), &fashion_test_set(), &NAMES, 1).unwrap();
    let png = std::fs::read_dir(dir.join(NAMES[0]))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut right = vec![0.0; 28 * 28];
    image_folder::decode(&png, (28, 28), ColorMode::Grayscale, &mut right).unwrap();
    for (len, size, mode) in [
        (28 * 28 - 1, (28, 28), ColorMode::Grayscale),
        (28 * 28, (28, 28), ColorMode::Rgb),
        (0, (0, 28), ColorMode::Grayscale),
    ] {
        let mut dst = vec![0.0; len];
        let err = image_folder::decode(&png, size, mode, &mut dst).unwrap_err();
        assert!(err.to_string().contains("not one"), "{err}");
    }
}
