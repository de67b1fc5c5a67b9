//! `Dataset`'s columns are public fields, so a caller can change one after
//! construction. `fit`, `evaluate`, `confusion_matrix` and
//! `split_validation` then report the inconsistency instead of indexing
//! past the data.

mod common;

use nn::ndarray::Array2;
use nn::prelude::*;

network! {
    struct Small {
        input x: [4];
        output y = Dense(3, activation = softmax)(x);
    }
}

fn data(n: usize) -> Dataset {
    let x = Array2::<f32>::from_shape_fn((n, 4), |(i, j)| (i * 4 + j) as f32 * 0.01);
    let y = one_hot(&(0..n).map(|i| i % 3).collect::<Vec<_>>(), 3).unwrap();
    Dataset::new(x, y).unwrap()
}

fn quiet() -> FitConfig {
    FitConfig {
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    }
}

/// Datasets with one column shortened or lengthened after construction.
fn edited() -> Vec<(&'static str, Dataset)> {
    let mut short_input = data(6);
    short_input.inputs[0].data.truncate(5);
    let mut long_target = data(6);
    long_target.targets[0].data.extend([0.0; 3]);
    let mut reshaped = data(6);
    reshaped.inputs[0].sample_shape = vec![8];
    vec![
        ("input array 0 holds 5 floats", short_input),
        ("target array 0 holds 21 floats", long_target),
        (
            "input array 0 holds 24 floats, not 6 samples of shape [8]",
            reshaped,
        ),
    ]
}

#[test]
fn fit_reports_a_column_edited_after_construction() {
    for (message, data) in edited() {
        for split in [None, Some(0.5)] {
            let mut net = Small::new(&mut common::rng(1));
            let before = net.params().to_vec();
            let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
            let config = FitConfig {
                validation_split: split,
                ..quiet()
            };
            let err = trainer
                .fit(&mut net, &data, None, &config, &mut [])
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{err}");
            assert_eq!(net.params(), &before[..], "training ran on inconsistent data");
        }
    }
}

#[test]
fn evaluation_reports_a_column_edited_after_construction() {
    for (message, data) in edited() {
        let mut net = Small::new(&mut common::rng(1));
        let trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
        let err = trainer.evaluate(&mut net, &data, 4).unwrap_err().to_string();
        assert!(err.contains(message), "{err}");
        let err = trainer
            .confusion_matrix(&mut net, &data, 0, 4)
            .unwrap_err()
            .to_string();
        assert!(err.contains(message), "{err}");
        let err = fit_with_validation(&mut net, &data).unwrap_err().to_string();
        assert!(err.contains("validation data") && err.contains(message), "{err}");
    }
}

/// `fit` on sound training data with `validation` as the validation set.
fn fit_with_validation<M: Model>(net: &mut M, validation: &Dataset) -> Result<History, NnError> {
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
    trainer.fit(net, &data(6), Some(validation), &quiet(), &mut [])
}

#[test]
fn to_array_and_select_report_an_edited_column() {
    // `to_array` used to panic on a column that is no longer whole samples.
    for (message, data) in edited() {
        let column = if message.starts_with("input") {
            &data.inputs[0]
        } else {
            &data.targets[0]
        };
        match column.to_array() {
            // The reshaped column still holds whole samples of its new shape.
            Ok(array) => assert_eq!(array.len(), column.data.len(), "{message}"),
            Err(err) => assert!(matches!(err, NnError::ColumnLength { .. }), "{message}: {err:?}"),
        }
        let err = data.select(&[0, 1]).unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
    }
    let mut short = data(6);
    short.inputs[0].data.truncate(5);
    let err = short.inputs[0].to_array().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Column::to_array: column holds 5 floats, not 1 samples of shape [4]"
    );
}

#[test]
fn a_sample_shape_whose_size_overflows_is_reported() {
    // `sample_len` multiplied the edited shape and overflowed (a panic).
    let mut data = data(6);
    data.inputs[0].sample_shape = vec![usize::MAX, 2];
    assert!(data.inputs[0].to_array().is_err());
    let mut net = Small::new(&mut common::rng(1));
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
    let err = trainer.fit(&mut net, &data, None, &quiet(), &mut []).unwrap_err();
    assert!(matches!(err, NnError::ColumnLength { .. }), "{err:?}");
}
