//! Keras 3's weighted loss: per-sample weights multiply each sample's loss,
//! the batch loss divides the weighted sum by the batch size; class_weight
//! becomes per-sample weights from the target classes.

use std::collections::HashMap;

use nn_runtime::train::class_weight::sample_weights;
use nn_runtime::train::dataset::Dataset;
use nn_runtime::train::loss::Loss;

#[test]
fn weighted_cross_entropy_is_the_weighted_sum_over_the_batch_size() {
    let pred = [0.5, 0.5, 0.25, 0.75];
    let labels = [0.0, 1.0];
    let weights = [2.0, 0.5];
    // Hand-worked: (2 * ln 2 + 0.5 * -ln 0.75) / 2 = 0.765068.
    let expected = (2.0 * 2f64.ln() + 0.5 * -(0.75f64).ln()) / 2.0;
    let mut grad = [0.0f32; 4];
    let loss = Loss::SparseCategoricalCrossentropy
        .evaluate_weighted(2, &pred, &labels, Some(&weights), false, 1.0, Some(&mut grad))
        .unwrap();
    assert!(
        (loss - expected).abs() < 1e-7 && (loss - 0.765_068).abs() < 1e-6,
        "{loss}"
    );
    // d/dp of -w ln p_t / N: row 0: -2 / 0.5 / 2 = -2; row 1: -0.5 / 0.75 / 2.
    assert_eq!(grad, [-2.0, 0.0, 0.0, -0.5 / 0.75 / 2.0]);
    // The fused (pre-activation) gradient is w (p - t) / N.
    let mut fused = [0.0f32; 4];
    Loss::SparseCategoricalCrossentropy
        .evaluate_weighted(2, &pred, &labels, Some(&weights), true, 1.0, Some(&mut fused))
        .unwrap();
    assert_eq!(
        fused,
        [
            2.0 * -0.5 / 2.0,
            2.0 * 0.5 / 2.0,
            0.5 * 0.25 / 2.0,
            0.5 * -0.25 / 2.0
        ]
    );
}

#[test]
fn weights_cover_every_row_of_their_sample() {
    // Two samples of two rows each (width 1): rows 0-1 weigh 3, rows 2-3 weigh 0.
    let pred = [1.0, 2.0, 3.0, 4.0];
    let target = [0.0, 0.0, 0.0, 0.0];
    let loss = Loss::MeanSquaredError
        .evaluate_weighted(1, &pred, &target, Some(&[3.0, 0.0]), false, 1.0, None)
        .unwrap();
    assert_eq!(loss, 3.0 * (1.0 + 4.0) / 4.0);
    let err = Loss::MeanSquaredError
        .evaluate_weighted(1, &pred, &target, Some(&[1.0, 1.0, 1.0]), false, 1.0, None)
        .unwrap_err();
    assert!(err.to_string().contains("3 sample weights for 4 rows"), "{err}");
    // Binary cross-entropy, width 2: sample weight applies to both units.
    let bce = Loss::BinaryCrossentropy
        .evaluate_weighted(
            2,
            &[0.5, 0.5, 0.5, 0.5],
            &[1.0, 0.0, 1.0, 1.0],
            Some(&[1.0, 3.0]),
            false,
            1.0,
            None,
        )
        .unwrap();
    assert!((bce - (1.0 + 3.0) * 2f64.ln() / 2.0).abs() < 1e-6, "{bce}");
}

#[test]
fn class_weight_becomes_sample_weights_as_keras_converts_targets() {
    let weights: HashMap<usize, f32> = [(0, 0.5), (2, 4.0)].into_iter().collect();
    let one_hot = nn_runtime::train::dataset::one_hot(&[2, 0, 1], 3).unwrap();
    let data = Dataset::new(ndarray::Array2::<f32>::zeros((3, 1)), one_hot).unwrap();
    // Class 1 is not in the map: weight 1.
    assert_eq!(
        sample_weights(&data.targets[0], &weights).unwrap(),
        vec![4.0, 0.5, 1.0]
    );
    let sparse = Dataset::new(
        ndarray::Array2::<f32>::zeros((3, 1)),
        ndarray::arr1(&[2.0f32, 1.0, 0.0]),
    )
    .unwrap();
    assert_eq!(
        sample_weights(&sparse.targets[0], &weights).unwrap(),
        vec![4.0, 1.0, 0.5]
    );
    // A single 0/1 unit: the rounded label is the class.
    let binary = Dataset::new(
        ndarray::Array2::<f32>::zeros((2, 1)),
        ndarray::arr2(&[[0.9f32], [0.2]]),
    )
    .unwrap();
    let b: HashMap<usize, f32> = [(1, 3.0)].into_iter().collect();
    assert_eq!(sample_weights(&binary.targets[0], &b).unwrap(), vec![3.0, 1.0]);
    let bad: HashMap<usize, f32> = [(1, f32::NAN)].into_iter().collect();
    assert!(sample_weights(&binary.targets[0], &bad).is_err());
}

#[test]
fn sample_weights_are_checked_and_follow_selections() {
    let data = Dataset::new(
        ndarray::Array2::<f32>::zeros((3, 1)),
        ndarray::arr1(&[0.0f32, 1.0, 0.0]),
    )
    .unwrap();
    let err = data
        .clone()
        .with_sample_weight(vec![1.0, 2.0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("2 sample weights given for 3 samples"), "{err}");
    let err = data
        .clone()
        .with_sample_weight(vec![1.0, -2.0, 1.0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("sample weight -2 at sample 1"), "{err}");
    let weighted = data.with_sample_weight(vec![1.0, 2.0, 3.0]).unwrap();
    let (train, valid) = weighted.split_validation(1.0 / 3.0).unwrap();
    assert_eq!(
        (train.sample_weight(), valid.sample_weight()),
        (Some(&[1.0f32, 2.0][..]), Some(&[3.0f32][..]))
    );
}
