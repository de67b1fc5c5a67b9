//! Training end to end on the real 8x8 digits set: deterministic accuracy
//! from a seed, weights round trip, callbacks, and a clear error for each
//! kind of bad input.

mod common;

use nn::ndarray::{Array1, Array4, Axis};
use nn::prelude::*;
use nn::runtime::io::datasets::LabelledImages;

network! {
    pub struct DigitsNet {
        input image: [8, 8, 1];
        let c = Conv2D(16, 3, padding = same, activation = relu)(image);
        let c = MaxPooling2D(2)(c);
        let c = Conv2D(32, 3, padding = same, activation = relu)(c);
        let c = Dropout(0.1)(c);
        output digit = Dense(10, activation = softmax)(flatten(c));
    }
}

fn digits() -> LabelledImages {
    datasets::digits(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/digits/digits.csv.gz"
    )))
    .expect("vendored digits load")
}

/// First 1,347 samples for training, the last 450 for testing.
fn split(all: &LabelledImages) -> (Dataset, Dataset) {
    let cut = 1347;
    let y = one_hot(&all.labels, 10).unwrap();
    let train = Dataset::new(
        all.images.slice_axis(Axis(0), (..cut).into()).to_owned(),
        y.slice_axis(Axis(0), (..cut).into()).to_owned(),
    )
    .unwrap();
    let test = Dataset::new(
        all.images.slice_axis(Axis(0), (cut..).into()).to_owned(),
        y.slice_axis(Axis(0), (cut..).into()).to_owned(),
    )
    .unwrap();
    (train, test)
}

fn config(epochs: usize) -> FitConfig {
    FitConfig {
        epochs,
        batch_size: 32,
        seed: 7,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    }
}

fn trained(epochs: usize) -> (DigitsNet, History, Dataset) {
    let all = digits();
    assert_eq!(all.len(), 1797);
    let (train, test) = split(&all);
    let mut net = DigitsNet::new(&mut common::rng(42));
    let mut trainer = Trainer::new(Adam::new(3e-3), Loss::CategoricalCrossentropy).with_accuracy();
    let history = trainer
        .fit(&mut net, &train, Some(&test), &config(epochs), &mut [])
        .unwrap();
    (net, history, test)
}

#[test]
fn digits_reach_93_percent_test_accuracy_deterministically() {
    let (mut net, history, test) = trained(10);
    let val_acc = history.series("val_accuracy");
    assert_eq!(val_acc.len(), 10);
    let last = *val_acc.last().unwrap();
    // Observed 0.9467 with these seeds; the held-out 450 are the last writers
    // of the UCI test split, so the bar is set below that with some margin.
    assert!(last >= 0.93, "test accuracy after 10 epochs: {last}");
    let losses = history.series("loss");
    assert!(losses[9] < losses[0] / 3.0, "training loss falls: {losses:?}");

    let trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy).with_accuracy();
    let logs = trainer.evaluate(&mut net, &test, 64).unwrap();
    assert!(
        (logs.get("accuracy").unwrap() - last).abs() < 1e-12,
        "evaluate agrees with fit"
    );

    // Same seeds, same everything, whatever the number of kernel threads
    // (convolution gradients are summed in fixed groups of images).
    let threads = nn::runtime::threads::current();
    nn::runtime::threads::set(if threads == 1 { 2 } else { 1 });
    let (_, again, _) = trained(10);
    nn::runtime::threads::set(threads);
    assert_eq!(history, again, "training is deterministic from its seeds");
}

#[test]
fn saved_weights_reload_to_identical_predictions() {
    let (mut net, _, test) = trained(1);
    let dir = common::TempDir::new("roundtrip");
    let path = dir.join("digits.safetensors");
    net.save_weights(&path).unwrap();

    let mut fresh = DigitsNet::new(&mut common::rng(1));
    fresh.load_weights(&path).unwrap();
    let x = test.inputs[0].to_array().unwrap();
    let a = predict(&mut net, &[x.view()], 100).unwrap();
    let b = predict(&mut fresh, &[x.view()], 100).unwrap();
    assert_eq!(a, b, "reloaded network predicts bit-for-bit the same");

    // Overwriting keeps a valid file and leaves no temporary behind.
    net.save_weights(&path).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("digits.safetensors")]);
}

#[test]
fn sparse_labels_train_like_one_hot() {
    let all = digits();
    let labels: Array1<f32> = all.label_array();
    let train = Dataset::new(all.images.clone(), labels).unwrap();
    let mut net = DigitsNet::new(&mut common::rng(42));
    let mut trainer = Trainer::new(Adam::new(3e-3), Loss::SparseCategoricalCrossentropy).with_accuracy();
    let history = trainer
        .fit(
            &mut net,
            &train,
            None,
            &FitConfig {
                validation_split: Some(0.25),
                ..config(3)
            },
            &mut [],
        )
        .unwrap();
    assert!(history.series("val_accuracy")[2] > 0.85, "{history:?}");
}

#[test]
fn callbacks_stop_early_checkpoint_and_log() {
    let all = digits();
    let (train, test) = split(&all);
    let dir = common::TempDir::new("callbacks");
    let mut net = DigitsNet::new(&mut common::rng(42));
    // A learning rate this high diverges, so validation loss stops improving.
    let mut trainer = Trainer::new(Sgd::new(3.0), Loss::CategoricalCrossentropy).with_accuracy();
    let mut early = EarlyStopping::new("val_loss", 2, true);
    let mut checkpoint = ModelCheckpoint::new(dir.join("best.safetensors"), "val_loss", true);
    let mut csv = CsvLogger::new(dir.join("log.csv"));
    let result = trainer.fit(
        &mut net,
        &train,
        Some(&test),
        &config(30),
        &mut [&mut early, &mut checkpoint, &mut csv],
    );
    match result {
        Ok(history) => {
            assert!(history.epochs.len() < 30, "early stopping ended training");
            assert!(early.stopped_epoch.is_some());
            let csv_text = std::fs::read_to_string(dir.join("log.csv")).unwrap();
            assert!(
                csv_text.starts_with("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate\n"),
                "{csv_text}"
            );
            assert_eq!(csv_text.lines().count(), history.epochs.len() + 1);
            // The restored weights are the checkpointed best ones.
            let mut best = DigitsNet::new(&mut common::rng(0));
            best.load_weights(dir.join("best.safetensors")).unwrap();
            assert_eq!(best.params(), net.params());
        }
        Err(e) => {
            // Divergence may also surface as a non-finite loss, reported with its place.
            assert!(e.to_string().contains("became NaN or infinite"), "{e}");
        }
    }
}

#[test]
fn non_finite_loss_stops_with_epoch_and_step() {
    let mut x = Array4::<f32>::zeros((64, 8, 8, 1));
    x[[40, 3, 3, 0]] = f32::NAN;
    let y = one_hot(&[1; 64], 10).unwrap();
    let data = Dataset::new(x, y).unwrap();
    let mut net = DigitsNet::new(&mut common::rng(1));
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
    let config = FitConfig {
        shuffle: false,
        ..config(2)
    };
    let err = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap_err();
    assert_eq!(
        err.to_string(),
        "DigitsNet: the loss became NaN or infinite at epoch 1, step 2; \
         try a lower learning rate or check the data for NaN or infinite values"
    );
}

#[test]
fn bad_inputs_are_errors_that_say_what_is_wrong() {
    let mut net = DigitsNet::new(&mut common::rng(1));
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
    let fit = |net: &mut DigitsNet, trainer: &mut Trainer<Adam>, data: &Dataset, config: &FitConfig| {
        trainer
            .fit(net, data, None, config, &mut [])
            .unwrap_err()
            .to_string()
    };

    // Images of the wrong size.
    let data = Dataset::new(Array4::<f32>::zeros((4, 9, 9, 1)), one_hot(&[0; 4], 10).unwrap()).unwrap();
    assert_eq!(
        fit(&mut net, &mut trainer, &data, &config(1)),
        "DigitsNet: `image` expects shape [batch, 8, 8, 1] but received [4, 9, 9, 1]"
    );

    // Labels out of range.
    assert_eq!(
        one_hot(&[3, 12], 10).unwrap_err().to_string(),
        "one_hot: label 12 at sample 1 is not a class index in 0..10"
    );
    let sparse = Dataset::new(Array4::<f32>::zeros((2, 8, 8, 1)), Array1::from(vec![1.0, 10.0])).unwrap();
    let mut sparse_trainer = Trainer::new(Adam::new(1e-3), Loss::SparseCategoricalCrossentropy);
    let err = sparse_trainer
        .fit(&mut net, &sparse, None, &config(1), &mut [])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "DigitsNet: training data label 10 at sample 1 is not a class index in 0..10"
    );

    // x and y of different lengths.
    let err = Dataset::new(Array4::<f32>::zeros((5, 8, 8, 1)), one_hot(&[0; 4], 10).unwrap()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "target 0 has 4 samples but the first array has 5; inputs and targets need the same number of samples"
    );

    // An empty set.
    let err = Dataset::new(Array4::<f32>::zeros((0, 8, 8, 1)), one_hot(&[], 10).unwrap()).unwrap_err();
    assert_eq!(err.to_string(), "the dataset is empty (0 samples)");

    // A batch size of 0.
    let data = Dataset::new(Array4::<f32>::zeros((4, 8, 8, 1)), one_hot(&[0; 4], 10).unwrap()).unwrap();
    let zero = FitConfig {
        batch_size: 0,
        ..config(1)
    };
    assert_eq!(
        fit(&mut net, &mut trainer, &data, &zero),
        "DigitsNet: batch_size must be at least 1"
    );
    let err = predict(&mut net, &[data.inputs[0].to_array().unwrap().view()], 0).unwrap_err();
    assert_eq!(err.to_string(), "DigitsNet: batch_size must be at least 1");

    // Targets that do not match the output.
    let wrong = Dataset::new(Array4::<f32>::zeros((4, 8, 8, 1)), one_hot(&[0; 4], 5).unwrap()).unwrap();
    assert_eq!(
        fit(&mut net, &mut trainer, &wrong, &config(1)),
        "DigitsNet: targets for output `digit` have per-sample shape [5], \
         categorical_crossentropy expects [10]"
    );
}

#[test]
fn weight_files_that_do_not_fit_are_reported_whole_and_change_nothing() {
    network! {
        struct Other {
            input image: [8, 8, 1];
            let c = Conv2D(8, 3, padding = same, activation = relu)(image);
            let c = MaxPooling2D(2)(c);
            let c = Conv2D(32, 3, padding = same, activation = relu)(c);
            let c = BatchNormalization()(c);
            output digit = Dense(10, activation = softmax)(flatten(c));
        }
    }
    let dir = common::TempDir::new("badweights");
    let path = dir.join("other.safetensors");
    Other::new(&mut common::rng(1)).save_weights(&path).unwrap();

    let mut net = DigitsNet::new(&mut common::rng(2));
    let before = net.params().to_vec();
    let err = net.load_weights(&path).unwrap_err().to_string();
    let origin = path.display().to_string();
    assert_eq!(
        err,
        format!(
            "`{origin}` does not match network DigitsNet:\n  \
             - it was saved by network Other, not DigitsNet; if DigitsNet is Other renamed or rebuilt, \
             load it with `load_weights_of_other_network`\n  \
             - tensor `conv2d_1.kernel` has shape [3, 3, 1, 8], expected [3, 3, 1, 16]\n  \
             - tensor `conv2d_1.bias` has shape [8], expected [16]\n  \
             - tensor `conv2d_2.kernel` has shape [3, 3, 8, 32], expected [3, 3, 16, 32]\n  \
             - unexpected tensor `batch_normalization_1.beta`\n  \
             - unexpected tensor `batch_normalization_1.gamma`\n  \
             - unexpected tensor `batch_normalization_1.moving_mean`\n  \
             - unexpected tensor `batch_normalization_1.moving_variance`"
        )
    );
    assert_eq!(net.params(), &before[..], "a failed load changes nothing");

    // Truncated and corrupt files are errors, not panics.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = net.load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("is not a valid safetensors file"), "{err}");
    std::fs::write(&path, b"definitely not safetensors").unwrap();
    let err = net.load_weights(&path).unwrap_err().to_string();
    assert!(err.contains("is not a valid safetensors file"), "{err}");
    let err = net
        .load_weights(dir.join("missing.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cannot read weights from"), "{err}");

    // A save that cannot happen leaves the good file in place.
    net.save_weights(&path).unwrap();
    let good = std::fs::read(&path).unwrap();
    let err = net
        .save_weights(dir.join("no-such-dir").join("x.safetensors"))
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot write weights to"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), good);
}
