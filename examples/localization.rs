//! The lecture's localization network: a Fashion-MNIST item at a random
//! place on a 64x64 canvas; one network says what it is (softmax over the
//! 10 classes) and where (its box as 4 linear numbers), trained on the sum
//! of categorical cross-entropy and a weighted mean squared error (Keras's
//! `loss_weights`). Prints the class accuracy and the mean IoU of the
//! predicted boxes on the test canvases.
//!
//! `cargo run --release --example localization` uses the vendored subset;
//! `-- --epochs N`, `-- --batch-size N`, `-- --full` as for the other
//! examples, `-- --box-weight W` sets the box loss's weight.

#[allow(dead_code)] // the other lecture examples use the rest
mod common;

use common::localization::{canvases, mean_iou, PixelBox};
use nn::ndarray::{Array2, Ix2};
use nn::prelude::*;
use nn::rand::rngs::StdRng;
use nn::rand::SeedableRng;

/// The canvas side in pixels.
const SIDE: usize = 64;

network! {
    /// What the item on a 64x64 canvas is, and where.
    pub struct Localizer {
        input canvas: [64, 64, 1];
        let x = MaxPooling2D(2)(Conv2D(16, 3, padding = same, activation = relu)(canvas));
        let x = MaxPooling2D(2)(Conv2D(32, 3, padding = same, activation = relu)(x));
        let x = MaxPooling2D(2)(Conv2D(32, 3, padding = same, activation = relu)(x));
        // Flattening (not global pooling) keeps where the features are.
        let features = Dense(128, activation = relu)(flatten(x));
        output class = Dense(10, activation = softmax)(features);
        output bbox = Dense(4)(features);
    }
}

/// The canvases of `images` with their one-hot classes and box targets.
fn localization_set(
    images: &datasets::LabelledImages,
    rng: &mut StdRng,
) -> Result<(Dataset, Vec<PixelBox>), Box<dyn std::error::Error>> {
    let placed = canvases(images, SIDE, rng)?;
    let classes = one_hot(&images.labels, 10)?;
    let data = Dataset::from_arrays(
        vec![placed.images.into_dyn()],
        vec![classes.into_dyn(), placed.targets.into_dyn()],
    )?;
    Ok((data, placed.boxes))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    println!("{}", Localizer::summary());
    let (dir, label) = common::data_dir(&args);
    let (train, test) = datasets::fashion_mnist(&dir)?;
    let mut rng = StdRng::seed_from_u64(42);
    let (train_set, _) = localization_set(&train, &mut rng)?;
    let (test_set, test_boxes) = localization_set(&test, &mut rng)?;
    println!(
        "Fashion-MNIST, {label}: {} training and {} test items on {SIDE}x{SIDE} canvases from {}",
        train.len(),
        test.len(),
        dir.display()
    );
    let epochs = common::flag(&args, "--epochs", 4);
    let batch_size = common::flag(&args, "--batch-size", 32);
    let box_weight = args
        .iter()
        .position(|a| a == "--box-weight")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0f32);

    let mut net = Localizer::new(&mut rng);
    // Keras: compile(loss=['categorical_crossentropy', 'mse'],
    //                loss_weights=[1.0, box_weight], metrics={'class': ['accuracy']})
    let mut trainer = Trainer::with_losses(
        Adam::with_betas(1e-3, 0.9, 0.999),
        vec![Loss::CategoricalCrossentropy, Loss::MeanSquaredError],
        vec![1.0, box_weight],
    )
    .with_output_metrics("class", &["accuracy"])?;
    let config = FitConfig {
        epochs,
        batch_size,
        seed: 1,
        ..FitConfig::default()
    };
    let started = std::time::Instant::now();
    let history = trainer.fit(&mut net, &train_set, Some(&test_set), &config, &mut [])?;
    println!(
        "trained {epochs} epochs in {:.1} s (box loss weight {box_weight})",
        started.elapsed().as_secs_f64()
    );
    let out = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/examples/localization"
    ));
    std::fs::create_dir_all(&out)?;
    net.save_weights(out.join("weights.safetensors"))?;
    common::write_reports(&out, &history, &Localizer::dot())?;

    let logs = trainer.evaluate(&mut net, &test_set, 256)?;
    let canvases = test_set.inputs[0].to_array()?;
    let predicted = predict(&mut net, &[canvases.view()], 256)?;
    let boxes: Array2<f32> = predicted[1].clone().into_dimensionality::<Ix2>()?;
    let iou = mean_iou(boxes.view(), &test_boxes, SIDE)?;
    let hits = (0..boxes.nrows())
        .filter(|&i| {
            PixelBox::from_targets(&boxes.row(i).to_vec(), SIDE).is_ok_and(|b| b.iou(&test_boxes[i]) >= 0.5)
        })
        .count();
    println!(
        "test boxes: mean IoU {iou:.4}, IoU >= 0.5 for {hits} of {} (box mse {:.5})",
        test_boxes.len(),
        logs.get("bbox_loss").unwrap_or(f64::NAN)
    );
    println!("test mean IoU: {iou:.4}");
    println!("test accuracy: {:.4}", logs.get("class_accuracy").unwrap_or(0.0));
    Ok(())
}
