//! Mistakes a careless caller makes with a whole network: every one is an
//! error naming what is wrong, never a panic, an abort or a silent answer.

mod common;

use nn::ndarray::{Array1, Array2, Array3, Array4, Axis};
use nn::prelude::*;

network! {
    struct TwoInputs {
        input image: [4, 4, 1];
        input meta: [2];
        let c = Conv2D(2, 3, padding = same, activation = relu)(image);
        let joined = concat(flatten(c), meta);
        output class = Dense(3, activation = softmax)(joined);
        output value = Dense(1)(joined);
    }
}

network! {
    struct Classifier {
        input x: [4];
        output y = Dense(10, activation = softmax)(x);
    }
}

fn two_inputs() -> TwoInputs {
    TwoInputs::new(&mut common::rng(1))
}

#[test]
fn predict_rejects_inputs_with_different_sample_counts() {
    let mut net = two_inputs();
    let image = Array4::<f32>::zeros((5, 4, 4, 1)).into_dyn();
    let meta = Array2::<f32>::zeros((3, 2)).into_dyn();
    // More images than metadata rows (this order used to panic) ...
    let err = predict(&mut net, &[image.view(), meta.view()], 2).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::BatchMismatch {
                expected: 5,
                actual: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("`meta` has 3 samples"), "{err}");
    // ... and fewer (this order used to drop the last samples silently).
    let image = Array4::<f32>::zeros((3, 4, 4, 1)).into_dyn();
    let meta = Array2::<f32>::zeros((5, 2)).into_dyn();
    let err = predict(&mut net, &[image.view(), meta.view()], 2).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::BatchMismatch {
                expected: 3,
                actual: 5,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn train_step_rejects_fewer_targets_than_outputs() {
    let mut net = two_inputs();
    let mut trainer = Trainer::with_losses(
        Sgd::new(0.1),
        vec![Loss::CategoricalCrossentropy, Loss::MeanSquaredError],
        vec![1.0, 1.0],
    );
    let image = vec![0.5; 2 * 16];
    let meta = vec![0.5; 2 * 2];
    let class = vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let mut grads = vec![vec![0.0; 2 * 3], vec![0.0; 2]];
    let err = trainer
        .train_step(&mut net, 2, &[&image, &meta], &[&class], &mut grads)
        .unwrap_err();
    assert!(
        matches!(
            err,
            NnError::Count {
                what: "targets",
                expected: 2,
                actual: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let mut one_grad = vec![vec![0.0; 2 * 3]];
    let value = vec![0.0; 2];
    let err = trainer
        .train_step(&mut net, 2, &[&image, &meta], &[&class, &value], &mut one_grad)
        .unwrap_err();
    assert!(
        matches!(
            err,
            NnError::Count {
                expected: 2,
                actual: 1,
                ..
            }
        ),
        "{err:?}"
    );
    trainer
        .train_step(&mut net, 2, &[&image, &meta], &[&class, &value], &mut grads)
        .unwrap();
}

#[test]
fn output_and_input_grad_indices_are_checked() {
    let mut net = two_inputs();
    let image = vec![0.5; 16];
    let meta = vec![0.5; 2];
    net.forward_slices(1, &[&image, &meta], Mode::Train).unwrap();
    assert_eq!(net.output(0).map(<[f32]>::len), Some(3));
    assert_eq!(net.output(1).map(<[f32]>::len), Some(1));
    assert_eq!(net.output(2), None);
    assert_eq!(net.output(usize::MAX), None);
    net.set_input_grads(true);
    net.backward_slices(&[&[1.0, 0.0, 0.0], &[1.0]]).unwrap();
    assert_eq!(net.input_grad(1).map(<[f32]>::len), Some(2));
    assert_eq!(net.input_grad(2), None);
}

#[test]
fn targets_must_have_the_outputs_per_sample_shape() {
    let mut net = Classifier::new(&mut common::rng(2));
    let x = Array2::<f32>::zeros((6, 4));
    // Ten values per sample, but shaped [2, 5] instead of [10].
    let y = Array3::<f32>::zeros((6, 2, 5));
    let data = Dataset::new(x.clone(), y).unwrap();
    let mut trainer = Trainer::new(Sgd::new(0.1), Loss::CategoricalCrossentropy);
    let config = FitConfig {
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let err = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap_err();
    assert!(
        matches!(&err, NnError::TargetShape { output: "y", expected, actual, .. }
            if expected == &[10] && actual == &[2, 5]),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(
            "targets for output `y` have per-sample shape [2, 5], categorical_crossentropy expects [10]"
        ),
        "{err}"
    );
    let err = trainer.evaluate(&mut net, &data, 4).unwrap_err();
    assert!(matches!(err, NnError::TargetShape { .. }), "{err:?}");
    // What Keras accepts still works: [n, 10] one-hot, and class indices
    // shaped [n] or [n, 1] for the sparse loss.
    let ok = Dataset::new(x.clone(), Array2::<f32>::zeros((6, 10))).unwrap();
    trainer.fit(&mut net, &ok, None, &config, &mut []).unwrap();
    let mut sparse = Trainer::new(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy);
    for labels in [
        Array1::<f32>::zeros(6).into_dyn(),
        Array2::<f32>::zeros((6, 1)).into_dyn(),
    ] {
        let data = Dataset::from_arrays(vec![x.clone().into_dyn()], vec![labels]).unwrap();
        sparse.fit(&mut net, &data, None, &config, &mut []).unwrap();
    }
}

fn classifier_data(n: usize) -> Dataset {
    let x = Array2::from_shape_fn((n, 4), |(i, j)| ((i * 4 + j) % 7) as f32 / 7.0);
    let labels: Vec<usize> = (0..n).map(|i| i % 10).collect();
    Dataset::new(x, one_hot(&labels, 10).unwrap()).unwrap()
}

#[test]
fn fit_with_a_nan_infinite_or_negative_learning_rate_is_an_error_naming_it() {
    // One epoch of one step: the NaN the update would write is never seen
    // by a later loss (this used to return Ok with NaN weights), and a
    // negative rate climbs the loss without any NaN (it returned Ok).
    let data = classifier_data(8);
    let config = FitConfig {
        epochs: 1,
        batch_size: 8,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    for (lr, shown) in [(f32::NAN, "NaN"), (f32::INFINITY, "inf"), (-0.5, "-0.5")] {
        let mut net = Classifier::new(&mut common::rng(3));
        let before = net.params().to_vec();
        let mut trainer = Trainer::new(Sgd::new(lr), Loss::CategoricalCrossentropy);
        let err = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap_err();
        assert!(
            matches!(
                err,
                NnError::Hyperparameter {
                    optimizer: "SGD",
                    name: "learning_rate",
                    ..
                }
            ),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!("SGD: learning_rate {shown} is not a finite number >= 0")
        );
        assert_eq!(net.params(), &before[..], "no update with a bad rate");
    }
}

#[test]
fn train_step_refuses_bad_optimizer_settings_before_any_update() {
    // Each used to return Ok: no NaN appears at once, the update is wrong.
    let mut rms = RmsProp::new(1e-3);
    rms.epsilon = 0.0;
    let cases = [
        (
            step_with(Adam::new(-1.0)),
            "Adam: learning_rate -1 is not a finite number >= 0",
        ),
        (
            step_with(Adam::with_betas(1e-3, 1.0, 0.999)),
            "Adam: beta_1 1 is not a number in [0, 1)",
        ),
        (
            step_with(Sgd::with_momentum(0.1, -0.9, false)),
            "SGD: momentum -0.9 is not a number in [0, 1]",
        ),
        (step_with(rms), "RMSprop: epsilon 0 is not a finite number > 0"),
    ];
    for (result, message) in cases {
        assert_eq!(result.unwrap_err().to_string(), message);
    }
    // The same step with sound settings trains.
    step_with(Adam::new(1e-3)).unwrap();
}

/// One `train_step` of a fresh `Classifier` with `optimizer`; checks that a
/// refused step left the weights as they were.
fn step_with<O: Optimizer>(optimizer: O) -> Result<f64, NnError> {
    let mut net = Classifier::new(&mut common::rng(4));
    let before = net.params().to_vec();
    let mut trainer = Trainer::new(optimizer, Loss::CategoricalCrossentropy);
    let x = vec![0.5; 2 * 4];
    let mut y = vec![0.0; 2 * 10];
    y[3] = 1.0;
    y[17] = 1.0;
    let mut grads = vec![vec![0.0; 2 * 10]];
    let result = trainer.train_step(&mut net, 2, &[&x], &[&y], &mut grads);
    if result.is_err() {
        assert_eq!(net.params(), &before[..], "a refused step changed weights");
    }
    result
}

#[test]
fn select_reports_an_index_out_of_range_and_an_empty_selection() {
    let data = classifier_data(5);
    // An index past the end used to panic slicing the column.
    let err = data.select(&[0, 7, 1]).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::IndexOutOfRange {
                what: "sample",
                index: 7,
                len: 5,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "Dataset::select: sample index 7 is out of range; there are 5 (sample 0 to 4)"
    );
    // No indices gave a dataset of 0 samples, on which `fit` divided by 0.
    assert!(matches!(data.select(&[]).unwrap_err(), NnError::EmptyDataset));
    // Repeats and any order are fine.
    let picked = data.select(&[4, 4, 0]).unwrap();
    assert_eq!(picked.len(), 3);
    assert_eq!(picked.inputs[0].data[..4], data.inputs[0].data[16..20]);
    assert_eq!(picked.inputs[0].data[8..12], data.inputs[0].data[..4]);
}

#[test]
fn fit_stops_when_an_update_makes_parameters_infinite() {
    // A finite but enormous learning rate on large inputs: the first update
    // overflows the kernel to infinity while the loss of that step was
    // finite. With one step nothing later would notice.
    let x = Array2::<f32>::from_elem((8, 4), 1000.0);
    let labels: Vec<usize> = (0..8).map(|i| i % 10).collect();
    let data = Dataset::new(x, one_hot(&labels, 10).unwrap()).unwrap();
    let mut net = Classifier::new(&mut common::rng(3));
    let mut trainer = Trainer::new(Sgd::new(f32::MAX), Loss::CategoricalCrossentropy);
    let config = FitConfig {
        epochs: 1,
        batch_size: 8,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let err = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::NonFinite {
                what: "parameters",
                epoch: 1,
                step: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("parameters became NaN or infinite at epoch 1, step 1"),
        "{err}"
    );
    // Several steps: the error names the first bad one.
    let mut net = Classifier::new(&mut common::rng(3));
    let config = FitConfig {
        epochs: 3,
        batch_size: 2,
        ..config
    };
    let err = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::NonFinite {
                epoch: 1,
                step: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn evaluate_never_counts_nan_rows_as_correct() {
    let mut net = Classifier::new(&mut common::rng(4));
    // Labels are class 0, where the argmax of a NaN row used to land.
    let x = Array2::<f32>::from_elem((4, 4), f32::NAN);
    let y = one_hot(&[0, 0, 0, 0], 10).unwrap();
    let data = Dataset::new(x, y).unwrap();
    let trainer = Trainer::new(Sgd::new(0.1), Loss::CategoricalCrossentropy).with_accuracy();
    let logs = trainer.evaluate(&mut net, &data, 4).unwrap();
    assert_eq!(logs.get("accuracy"), Some(0.0), "{logs:?}");
    let sparse = Trainer::new(Sgd::new(0.1), Loss::SparseCategoricalCrossentropy).with_accuracy();
    let data = Dataset::new(
        Array2::<f32>::from_elem((4, 4), f32::NAN),
        Array1::<f32>::zeros(4),
    )
    .unwrap();
    let logs = sparse.evaluate(&mut net, &data, 4).unwrap();
    assert_eq!(logs.get("accuracy"), Some(0.0), "{logs:?}");
}

#[test]
fn typed_predict_of_an_impossibly_large_broadcast_view_is_an_error() {
    let mut net = two_inputs();
    let image = Array4::<f32>::zeros((1, 4, 4, 1));
    let meta = Array2::<f32>::zeros((1, 2));
    // 2^45 samples: the outputs alone would need 512 TiB.
    let n = 1usize << 45;
    let huge_image = image.broadcast((n, 4, 4, 1)).unwrap();
    let huge_meta = meta.broadcast((n, 2)).unwrap();
    let err = net.predict(huge_image, huge_meta).unwrap_err();
    assert!(matches!(err, NnError::OutOfMemory { .. }), "{err:?}");
    assert!(err.to_string().contains("cannot allocate"), "{err}");
    // The network still works afterwards.
    let (class, value) = net.predict(image.view(), meta.view()).unwrap();
    assert_eq!((class.dim(), value.dim()), ((1, 3), (1, 1)));
}

#[test]
fn whole_array_inference_runs_in_chunks_with_the_same_results() {
    let mut net = two_inputs();
    let mut rng = common::rng(6);
    let n = 37;
    let image = Array4::from_shape_vec((n, 4, 4, 1), common::random_vec(&mut rng, n * 16)).unwrap();
    let meta = Array2::from_shape_vec((n, 2), common::random_vec(&mut rng, n * 2)).unwrap();
    let whole = predict(&mut net, &[image.view().into_dyn(), meta.view().into_dyn()], n).unwrap();
    for batch in [1, 5, 36] {
        let chunked = predict(
            &mut net,
            &[image.view().into_dyn(), meta.view().into_dyn()],
            batch,
        )
        .unwrap();
        for (a, b) in whole.iter().zip(&chunked) {
            common::assert_close(
                &format!("batch {batch}"),
                a.as_slice().unwrap(),
                b.as_slice().unwrap(),
                1e-6,
            );
        }
    }
    // A strided view (every other sample) is copied chunk by chunk.
    let every_other = image.slice_axis(Axis(0), nn::ndarray::Slice::new(0, None, 2));
    let meta_other = meta.slice_axis(Axis(0), nn::ndarray::Slice::new(0, None, 2));
    let (class, _) = net.predict(every_other, meta_other).unwrap();
    let expected = whole[0].select(Axis(0), &(0..n).step_by(2).collect::<Vec<_>>());
    common::assert_close(
        "strided",
        class.as_slice().unwrap(),
        expected.as_slice().unwrap(),
        1e-6,
    );
}

#[test]
fn release_memory_frees_the_batch_sized_buffers() {
    let mut net = two_inputs();
    let n = 512;
    let image = vec![0.25; n * 16];
    let meta = vec![0.5; n * 2];
    net.forward_slices(n, &[&image, &meta], Mode::Train).unwrap();
    let held = net.memory_bytes();
    // Activations and gradients of 512 samples at least.
    assert!(held >= n * 4 * (16 + 2 + 3 + 1), "{held} bytes");
    net.release_memory();
    assert_eq!(net.memory_bytes(), 0);
    assert_eq!(
        net.output(0),
        Some(&[][..]),
        "nothing of the old batch is visible"
    );
    // Backward without a new forward is refused, not run on freed memory.
    assert!(matches!(
        net.backward_slices(&[&[], &[]]).unwrap_err(),
        NnError::NoForward { .. }
    ));
    // The network works again, holding only what one sample needs.
    net.forward_slices(1, &[&image[..16], &meta[..2]], Mode::Infer)
        .unwrap();
    assert!(
        net.memory_bytes() < held / 100,
        "{} of {held}",
        net.memory_bytes()
    );
}

#[test]
fn fit_keeps_one_batch_of_memory_until_released() {
    // What `Trainer::fit` documents: the memory of a large batch stays for
    // the next call and goes with `release_memory`, after which the
    // network evaluates the same.
    let n = 4096;
    let data = classifier_data(n);
    let mut net = Classifier::new(&mut common::rng(11));
    let mut trainer = Trainer::new(Sgd::new(0.01), Loss::CategoricalCrossentropy);
    let config = FitConfig {
        batch_size: n,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    trainer.fit(&mut net, &data, None, &config, &mut []).unwrap();
    // Inputs, outputs and their gradients of 4096 samples at least.
    let held = net.memory_bytes();
    assert!(held >= n * 4 * (4 + 10 + 10), "{held} bytes");
    let loss = trainer.evaluate(&mut net, &data, 256).unwrap().get("loss");
    assert_eq!(net.memory_bytes(), held, "evaluate reuses the batch's memory");
    net.release_memory();
    assert_eq!(net.memory_bytes(), 0);
    assert_eq!(trainer.evaluate(&mut net, &data, 256).unwrap().get("loss"), loss);
    assert!(net.memory_bytes() <= held / 8, "{} of {held}", net.memory_bytes());
}

#[test]
fn errors_are_typed_and_chain_their_source() {
    use std::error::Error;
    let mut net = Classifier::new(&mut common::rng(7));
    let missing = std::env::temp_dir().join("nn-no-such-dir-7f3a/weights.safetensors");
    let err = net.load_weights(&missing).unwrap_err();
    match &err {
        NnError::Io { path, source, .. } => {
            assert_eq!(path, &missing);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    let source = err.source().expect("an I/O error has a source");
    assert!(source.downcast_ref::<std::io::Error>().is_some());
    assert!(err.to_string().contains("nn-no-such-dir-7f3a"), "{err}");
}

#[test]
fn a_batch_whose_size_overflows_is_an_error() {
    let mut net = Classifier::new(&mut common::rng(8));
    let err = net
        .forward_slices(usize::MAX / 2, &[&[0.0; 4]], Mode::Infer)
        .unwrap_err();
    assert!(matches!(err, NnError::InvalidArgument { .. }), "{err:?}");
    assert!(err.to_string().contains("has 4 floats"), "{err}");
}

network! {
    /// 2^18 hidden values per sample: 1 MiB of activations each.
    struct WideHidden {
        input x: [1];
        let h = Dense(262144, activation = relu)(x);
        output y = Dense(1)(h);
    }
}

#[test]
fn typed_predict_keeps_memory_bounded_by_chunks() {
    use nn::__private::Generated; // the arena size and core are plumbing, read here on purpose
    use nn::runtime::inference::{default_chunk, INFERENCE_BUDGET_FLOATS};
    let mut net = WideHidden::new(&mut common::rng(9));
    // Inference runs over its own layout and allocates no gradients.
    let per_sample = <WideHidden as Generated>::INFERENCE_ARENA_PER_SAMPLE;
    let chunk = default_chunk::<WideHidden>();
    assert_eq!(chunk, INFERENCE_BUDGET_FLOATS / per_sample);
    let n = 5 * chunk + 3;
    let x = Array2::<f32>::from_shape_fn((n, 1), |(i, _)| i as f32 / n as f32);
    let y = net.predict(x.view()).unwrap();
    assert_eq!(y.dim(), (n, 1));
    // Memory for one chunk, not for all n samples (scratch aside: 1 MiB).
    let held = net.memory_bytes();
    assert!(held <= chunk * per_sample * 4 + (1 << 20), "{held} bytes");
    // The last samples are computed, not left as zeros: a sample run alone
    // gives the same answer.
    let last = net.predict(x.slice(nn::ndarray::s![n - 1.., ..])).unwrap();
    common::assert_close("last sample", &[y[[n - 1, 0]]], &[last[[0, 0]]], 1e-5);
}

#[test]
fn one_hot_with_an_absurd_class_count_is_an_error() {
    // ndarray panicked on the overflowing shape (or the allocation aborted).
    for classes in [usize::MAX, usize::MAX / 3, 1 << 62] {
        let err = one_hot(&[1, 2], classes).unwrap_err();
        assert!(matches!(err, NnError::OutOfMemory { .. }), "{err:?}");
    }
    // No labels: ndarray still refuses a row length beyond isize::MAX.
    assert!(one_hot(&[], usize::MAX).is_err());
    assert_eq!(
        one_hot(&[1, 0], 2).unwrap(),
        nn::ndarray::arr2(&[[0.0, 1.0], [1.0, 0.0]])
    );
}

/// Records the hooks `fit` calls and asks to stop in the hook named `stop_in`.
struct StopIn {
    stop_in: &'static str,
    calls: Vec<&'static str>,
}

impl StopIn {
    fn hook(&mut self, name: &'static str, ctx: &mut CallbackContext) {
        self.calls.push(name);
        if name == self.stop_in {
            ctx.stop_training();
        }
    }
}

impl Callback for StopIn {
    fn on_train_begin(&mut self, ctx: &mut CallbackContext) -> Result<(), NnError> {
        self.hook("train_begin", ctx);
        Ok(())
    }
    fn on_epoch_begin(&mut self, _epoch: usize, ctx: &mut CallbackContext) -> Result<(), NnError> {
        self.hook("epoch_begin", ctx);
        Ok(())
    }
    fn on_train_batch_end(
        &mut self,
        _batch: usize,
        _loss: f64,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        self.hook("batch_end", ctx);
        Ok(())
    }
    fn on_epoch_end(
        &mut self,
        _epoch: usize,
        _logs: &mut Logs,
        ctx: &mut CallbackContext,
    ) -> Result<(), NnError> {
        self.hook("epoch_end", ctx);
        Ok(())
    }
    fn on_train_end(&mut self, ctx: &mut CallbackContext) -> Result<(), NnError> {
        self.hook("train_end", ctx);
        Ok(())
    }
}

#[test]
fn a_callback_that_stops_at_once_gets_no_training() {
    let data = classifier_data(8);
    let config = FitConfig {
        epochs: 3,
        batch_size: 4,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let cases: [(&str, &[&str], usize); 3] = [
        // A stop in `on_train_begin` used to be ignored: all 3 epochs ran.
        ("train_begin", &["train_begin", "train_end"], 0),
        ("epoch_begin", &["train_begin", "epoch_begin", "train_end"], 0),
        (
            "batch_end",
            &[
                "train_begin",
                "epoch_begin",
                "batch_end",
                "epoch_end",
                "train_end",
            ],
            1,
        ),
    ];
    for (stop_in, calls, epochs) in cases {
        let mut net = Classifier::new(&mut common::rng(5));
        let before = net.params().to_vec();
        let mut trainer = Trainer::new(Sgd::new(0.1), Loss::CategoricalCrossentropy);
        let mut callback = StopIn {
            stop_in,
            calls: Vec::new(),
        };
        let history = trainer
            .fit(&mut net, &data, None, &config, &mut [&mut callback])
            .unwrap();
        assert_eq!(callback.calls, calls, "stop in {stop_in}");
        assert_eq!(history.epochs.len(), epochs, "stop in {stop_in}");
        assert_eq!(net.params() == &before[..], epochs == 0, "stop in {stop_in}");
    }
}

#[test]
fn loss_weights_are_one_per_output_or_one_for_all() {
    let mut net = two_inputs();
    let n = 4;
    let data = Dataset::from_arrays(
        vec![
            Array4::<f32>::from_elem((n, 4, 4, 1), 0.3).into_dyn(),
            Array2::<f32>::from_elem((n, 2), -0.2).into_dyn(),
        ],
        vec![
            one_hot(&[0, 1, 2, 1], 3).unwrap().into_dyn(),
            Array2::<f32>::from_elem((n, 1), 2.0).into_dyn(),
        ],
    )
    .unwrap();
    let losses = || vec![Loss::CategoricalCrossentropy, Loss::MeanSquaredError];
    let loss_with = |net: &mut TwoInputs, weights: Vec<f32>| {
        Trainer::with_losses(Sgd::new(0.1), losses(), weights)
            .evaluate(net, &data, n)
            .map(|logs| logs.get("loss").unwrap())
    };
    // One weight scales every output (it used to scale the first only).
    let both = loss_with(&mut net, vec![1.0, 1.0]).unwrap();
    let single = loss_with(&mut net, vec![2.0]).unwrap();
    assert!(
        (single - 2.0 * both).abs() <= 1e-6 * both.abs(),
        "{single} vs 2 × {both}"
    );
    // Three weights for two outputs used to drop the third silently.
    let err = loss_with(&mut net, vec![1.0, 1.0, 1.0]).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::Count {
                expected: 2,
                actual: 3,
                ..
            }
        ),
        "{err:?}"
    );
    for bad in [f32::NAN, -1.0, f32::INFINITY] {
        let err = loss_with(&mut net, vec![1.0, bad]).unwrap_err();
        assert!(err.to_string().contains(&format!("loss weight {bad}")), "{err}");
    }
}

network! {
    /// Large enough per batch for the kernels to split work across threads.
    struct Busy {
        input image: [16, 16, 3];
        let c = Conv2D(16, 3, padding = same, activation = relu)(image);
        let c = MaxPooling2D(2)(c);
        output y = Dense(10, activation = softmax)(flatten(c));
    }
}

#[test]
fn networks_trained_on_two_threads_at_once_match_one_trained_alone() {
    // Each thread owns its network; the kernels' shared worker pool must
    // neither mix their work nor deadlock.
    let n = 64;
    let mut rng = common::rng(12);
    let images = Array4::from_shape_vec((n, 16, 16, 3), common::random_vec(&mut rng, n * 768)).unwrap();
    let labels: Vec<usize> = (0..n).map(|i| i % 10).collect();
    let data = Dataset::new(images.clone(), one_hot(&labels, 10).unwrap()).unwrap();
    let config = FitConfig {
        epochs: 2,
        batch_size: 16,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let train = || {
        let mut net = Busy::new(&mut common::rng(13));
        let mut trainer = Trainer::new(Adam::new(1e-2), Loss::CategoricalCrossentropy);
        trainer.fit(&mut net, &data, None, &config, &mut []).unwrap();
        let y = net.predict(images.view()).unwrap();
        (net.params().to_vec(), y)
    };
    let alone = train();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(train);
        let b = s.spawn(train);
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!(a == alone && b == alone, "results differ between threads");
}

#[test]
fn augmentation_factors_out_of_range_are_errors_before_training() {
    // Each used to panic in the random range of the first batch (a reversed
    // or NaN range) or warp images to nothing.
    let n = 8;
    let images = Array4::<f32>::from_elem((n, 16, 16, 3), 0.5);
    let data = Dataset::new(images, one_hot(&[3; 8], 10).unwrap()).unwrap();
    let cases = [
        (
            Augmentation {
                rotation: -0.1,
                ..Augmentation::default()
            },
            "rotation -0.1 is not a finite number >= 0",
        ),
        (
            Augmentation {
                contrast: f32::NAN,
                ..Augmentation::default()
            },
            "contrast NaN is not a finite number >= 0",
        ),
        (
            Augmentation {
                zoom: 1.0,
                ..Augmentation::default()
            },
            "zoom 1 is not a number in [0, 1)",
        ),
        (
            Augmentation {
                translation: (0.0, 1.5),
                ..Augmentation::default()
            },
            "translation width factor 1.5 is not a number in [0, 1]",
        ),
    ];
    for (augmentation, message) in cases {
        let mut net = Busy::new(&mut common::rng(14));
        let before = net.params().to_vec();
        let mut trainer = Trainer::new(Sgd::new(0.1), Loss::CategoricalCrossentropy);
        let config = FitConfig {
            augmentation: Some(augmentation),
            verbosity: Verbosity::Quiet,
            ..FitConfig::default()
        };
        let err = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap_err();
        assert_eq!(err.to_string(), format!("Augmentation: {message}"));
        assert_eq!(net.params(), &before[..]);
    }
    // Called directly on a buffer that is not whole images.
    let mut partial = vec![0.5; 16 * 16 * 3 + 5];
    let flip = Augmentation {
        flip: Some(Flip::Horizontal),
        ..Augmentation::default()
    };
    let err = flip
        .apply(&mut partial, (16, 16, 3), &mut common::rng(1))
        .unwrap_err();
    assert!(err.to_string().contains("not whole images"), "{err}");
}
