//! Several inputs and outputs: named arrays, a loss and a weight per output
//! (Keras's `loss_weights`), per-output figures in the logs.

mod common;

use nn::ndarray::{Array1, Array2, Array4, ArrayD};
use nn::prelude::*;

network! {
    struct TwoHeads {
        input image: [6, 6, 1];
        input meta: [2];
        let c = Conv2D(4, 3, padding = same, activation = relu)(image);
        let g = GlobalAveragePooling2D()(c);
        let m = Dense(4, activation = relu)(meta);
        let joined = concat(g, m);
        output class = Dense(2, activation = softmax)(joined);
        output value = Dense(1)(joined);
    }
}

/// Class: is the image's left half brighter? Value: the sum of `meta`.
fn data(n: usize) -> (Array4<f32>, Array2<f32>, Array1<f32>, Array2<f32>) {
    let mut rng = common::rng(5);
    let noise = common::random_vec(&mut rng, n * 36 + n * 2);
    let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let image = Array4::from_shape_fn((n, 6, 6, 1), |(i, _, x, _)| {
        let bright = (x < 3) == (labels[i] == 1);
        (if bright { 1.0 } else { 0.0 }) + 0.1 * noise[i * 36 + x]
    });
    let meta = Array2::from_shape_fn((n, 2), |(i, j)| noise[n * 36 + i * 2 + j]);
    let value = Array1::from_iter((0..n).map(|i| meta[[i, 0]] + meta[[i, 1]]));
    (image, meta, value, one_hot(&labels, 2).unwrap())
}

#[test]
fn two_outputs_train_with_weighted_losses_and_named_arrays() {
    let (image, meta, value, class) = data(128);
    let train = Dataset::named::<TwoHeads>(
        vec![
            ("meta", meta.clone().into_dyn()),
            ("image", image.clone().into_dyn()),
        ],
        vec![
            (
                "value",
                value.clone().insert_axis(nn::ndarray::Axis(1)).into_dyn(),
            ),
            ("class", class.into_dyn()),
        ],
    )
    .unwrap();
    let mut net = TwoHeads::new(&mut common::rng(9));
    let mut trainer = Trainer::with_losses(
        Adam::new(1e-2),
        vec![Loss::CategoricalCrossentropy, Loss::MeanSquaredError],
        vec![1.0, 0.5],
    )
    .with_accuracy();
    let config = FitConfig {
        epochs: 40,
        batch_size: 16,
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
            "value_loss",
            "value_accuracy",
            "learning_rate"
        ]
    );
    for logs in &history.epochs {
        let expected = logs.get("class_loss").unwrap() + 0.5 * logs.get("value_loss").unwrap();
        assert!(
            (logs.get("loss").unwrap() - expected).abs() < 1e-9,
            "total is the weighted sum: {logs:?}"
        );
    }
    let first = &history.epochs[0];
    let last = history.epochs.last().unwrap();
    assert!(last.get("class_accuracy").unwrap() > 0.95, "{last:?}");
    assert!(
        last.get("value_loss").unwrap() < first.get("value_loss").unwrap() / 4.0,
        "{first:?} -> {last:?}"
    );

    let outputs = predict_named(
        &mut net,
        vec![
            ("image", image.view().into_dyn()),
            ("meta", meta.view().into_dyn()),
        ],
        50,
    )
    .unwrap();
    assert_eq!(outputs[0].0, "class");
    assert_eq!(outputs[0].1.shape(), &[128, 2]);
    assert_eq!(outputs[1].0, "value");
    assert_eq!(outputs[1].1.shape(), &[128, 1]);
}

#[test]
fn naming_mistakes_are_reported_together() {
    let x: ArrayD<f32> = Array4::<f32>::zeros((2, 6, 6, 1)).into_dyn();
    let err = Dataset::named::<TwoHeads>(
        vec![
            ("image", x.clone()),
            ("image", x.clone()),
            ("metadata", x.clone()),
        ],
        vec![("class", x)],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TwoHeads: input `image` is given twice; no input named `metadata` (the inputs are: image, meta); \
         input `meta` is missing"
    );
}
