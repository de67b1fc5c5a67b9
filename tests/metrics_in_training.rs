//! Metrics per output in `fit` and `evaluate`: logged under Keras's names,
//! and accumulated over batches to the same value as computed at once on
//! `predict`'s outputs; the confusion matrix from the trainer likewise.

mod common;

use nn::ndarray::{Array2, Array4};
use nn::prelude::*;
use nn::runtime::train::Metric;

network! {
    struct TwoHeads {
        input x: [3, 3, 1];
        let h = Dense(8, activation = tanh)(flatten(x));
        output class = Dense(3, activation = softmax)(h);
        output value = Dense(1)(h);
    }
}

fn data(n: usize) -> (Dataset, Array4<f32>, Array2<f32>, Array2<f32>) {
    let x = Array4::from_shape_fn((n, 3, 3, 1), |(i, r, c, _)| {
        (((i * 5 + r * 3 + c * 7) % 11) as f32 - 5.0) / 5.0
    });
    let class = Array2::from_shape_fn((n, 3), |(i, c)| ((i % 3) == c) as u8 as f32);
    let value = Array2::from_shape_fn((n, 1), |(i, _)| (i % 4) as f32 / 4.0);
    let data = Dataset::from_arrays(
        vec![x.clone().into_dyn()],
        vec![class.clone().into_dyn(), value.clone().into_dyn()],
    )
    .unwrap();
    (data, x, class, value)
}

#[test]
fn per_output_metrics_are_named_and_accumulate_like_a_single_computation() {
    let (train, x, class, value) = data(30);
    let mut net = TwoHeads::new(&mut common::rng(5));
    let mut trainer = Trainer::with_losses(
        Adam::new(1e-2),
        vec![Loss::CategoricalCrossentropy, Loss::MeanSquaredError],
        vec![1.0, 1.0],
    )
    .with_output_metrics(
        "class",
        &["accuracy", "top_k_categorical_accuracy", "auc", "precision"],
    )
    .unwrap()
    .with_output_metrics("value", &["mae", "mse"])
    .unwrap();
    let config = FitConfig {
        epochs: 2,
        batch_size: 7,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let history = trainer.fit(&mut net, &train, None, &config, &mut []).unwrap();
    assert_eq!(
        history.names(),
        vec![
            "loss",
            "class_loss",
            "class_accuracy",
            "class_top_k_categorical_accuracy",
            "class_auc",
            "class_precision",
            "value_loss",
            "value_mae",
            "value_mse",
            "learning_rate"
        ]
    );
    // Evaluate in batches of 7 (30 = 4 * 7 + 2) and compare with the
    // metrics computed once over predict's outputs.
    let logs = trainer.evaluate(&mut net, &train, 7).unwrap();
    let outs = predict(&mut net, &[x.view().into_dyn()], 30).unwrap();
    let p_class: Vec<f32> = outs[0].iter().copied().collect();
    let p_value: Vec<f32> = outs[1].iter().copied().collect();
    let t_class: Vec<f32> = class.iter().copied().collect();
    let t_value: Vec<f32> = value.iter().copied().collect();
    let cce = Loss::CategoricalCrossentropy;
    for name in ["accuracy", "top_k_categorical_accuracy", "auc", "precision"] {
        let once = Metric::named(name).unwrap().compute(cce, 3, &p_class, &t_class);
        let got = logs.get(&format!("class_{name}")).unwrap();
        assert!((got - once).abs() < 1e-12, "{name}: {got} vs {once}");
    }
    for name in ["mae", "mse"] {
        let once = Metric::named(name)
            .unwrap()
            .compute(Loss::MeanSquaredError, 1, &p_value, &t_value);
        let got = logs.get(&format!("value_{name}")).unwrap();
        assert!((got - once).abs() < 1e-9, "{name}: {got} vs {once}");
    }
    // The value loss is the MSE.
    assert!((logs.get("value_loss").unwrap() - logs.get("value_mse").unwrap()).abs() < 1e-6);

    let matrix = trainer.confusion_matrix(&mut net, &train, 0, 7).unwrap();
    assert_eq!(matrix.total(), 30);
    assert!((matrix.accuracy() - logs.get("class_accuracy").unwrap()).abs() < 1e-12);
    let err = trainer
        .confusion_matrix(&mut net, &train, 2, 7)
        .unwrap_err()
        .to_string();
    assert!(err.contains("output index 2 is out of range"), "{err}");
}

#[test]
fn metric_mistakes_are_clear_errors() {
    let (train, ..) = data(6);
    let config = FitConfig {
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let mut net = TwoHeads::new(&mut common::rng(5));
    let losses = vec![Loss::CategoricalCrossentropy, Loss::MeanSquaredError];
    let mut trainer = Trainer::with_losses(Sgd::new(0.1), losses.clone(), vec![1.0, 1.0])
        .with_output_metrics("klass", &["accuracy"])
        .unwrap();
    let err = trainer
        .fit(&mut net, &train, None, &config, &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("output `klass`") && err.contains("class, value"),
        "{err}"
    );
    let mut trainer = Trainer::with_losses(Sgd::new(0.1), losses, vec![1.0, 1.0])
        .with_metrics(&["sparse_categorical_accuracy"])
        .unwrap();
    let err = trainer
        .fit(&mut net, &train, None, &config, &mut [])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`sparse_categorical_accuracy` on output `class` cannot read"),
        "{err}"
    );
    assert!(Trainer::new(Sgd::new(0.1), Loss::MeanSquaredError)
        .with_metrics(&["f1"])
        .is_err());
}
