//! Metrics against hand-counted cases, and the confusion matrix.

use nn_runtime::report::confusion::ConfusionMatrix;
use nn_runtime::train::loss::Loss;
use nn_runtime::train::metric::Metric;
use nn_runtime::NnError;

fn metric(name: &str) -> Metric {
    Metric::named(name).unwrap()
}

const ROWS: [f32; 12] = [
    0.1,
    0.7,
    0.2, // argmax 1
    0.5,
    0.3,
    0.2, // argmax 0
    0.2,
    0.2,
    0.6, // argmax 2
    f32::NAN,
    0.0,
    0.0, // never correct
];

#[test]
fn categorical_and_sparse_accuracy_count_argmax_hits_and_never_a_nan_row() {
    let one_hot = [0., 1., 0., 1., 0., 0., 0., 1., 0., 1., 0., 0.];
    let labels = [1., 0., 1., 0.];
    // Hits: rows 0 and 1; row 2 predicts 2 for class 1; row 3 has a NaN.
    let cce = Loss::CategoricalCrossentropy;
    assert_eq!(
        metric("categorical_accuracy").compute(cce, 3, &ROWS, &one_hot),
        0.5
    );
    assert_eq!(metric("accuracy").compute(cce, 3, &ROWS, &one_hot), 0.5);
    let sparse = Loss::SparseCategoricalCrossentropy;
    assert_eq!(
        metric("sparse_categorical_accuracy").compute(sparse, 3, &ROWS, &labels),
        0.5
    );
    assert_eq!(metric("acc").compute(sparse, 3, &ROWS, &labels), 0.5);
    assert_eq!(
        metric("acc").name,
        "acc",
        "logged under the name given, as Keras 3"
    );
}

#[test]
fn binary_accuracy_needs_strictly_above_one_half() {
    let pred = [0.6, 0.4, 0.5, 0.9];
    let target = [1.0, 0.0, 1.0, 0.0];
    // 0.6 -> 1 = 1 yes; 0.4 -> 0 = 0 yes; 0.5 -> 0 != 1; 0.9 -> 1 != 0.
    let bce = Loss::BinaryCrossentropy;
    assert_eq!(metric("binary_accuracy").compute(bce, 1, &pred, &target), 0.5);
    assert_eq!(metric("accuracy").compute(bce, 1, &pred, &target), 0.5);
}

#[test]
fn top_k_counts_ties_in_as_tensorflow_does() {
    let pred = [
        0.1, 0.5, 0.3, 0.1, // class 2 has one higher value: in the top 2
        0.1, 0.5, 0.3, 0.1, // class 0 has two higher values: not in the top 2
        0.2, 0.2, 0.2, 0.4, // class 0 ties with 1 and 2 behind 3: in the top 2
    ];
    let labels = [2.0, 0.0, 0.0];
    let top2 = Metric::top_k(2, true);
    let expected = 2.0 / 3.0;
    assert_eq!(
        top2.compute(Loss::SparseCategoricalCrossentropy, 4, &pred, &labels),
        expected
    );
    let one_hot = [0., 0., 1., 0., 1., 0., 0., 0., 1., 0., 0., 0.];
    let dense = Metric::top_k(2, false);
    assert_eq!(
        dense.compute(Loss::CategoricalCrossentropy, 4, &pred, &one_hot),
        expected
    );
    // Keras's default k is 5: every class of a 4-wide row is in.
    let default = metric("sparse_top_k_categorical_accuracy");
    assert_eq!(
        default.compute(Loss::SparseCategoricalCrossentropy, 4, &pred, &labels),
        1.0
    );
}

#[test]
fn precision_and_recall_from_counted_positives() {
    let pred = [0.9, 0.2, 0.7, 0.6, 0.1, 0.4];
    let target = [1.0, 1.0, 0.0, 1.0, 1.0, 0.0];
    // Predicted positive (> 0.5): 0.9 (true), 0.7 (false), 0.6 (true):
    // tp 2, fp 1. Missed positives: 0.2, 0.1: fn 2.
    let bce = Loss::BinaryCrossentropy;
    assert_eq!(metric("precision").compute(bce, 1, &pred, &target), 2.0 / 3.0);
    assert_eq!(metric("recall").compute(bce, 1, &pred, &target), 0.5);
    // Nothing predicted positive: precision 0, as Keras's divide_no_nan.
    assert_eq!(metric("precision").compute(bce, 1, &[0.1], &[1.0]), 0.0);
    // Sparse targets count as one-hot rows.
    let sparse = Loss::SparseCategoricalCrossentropy;
    let rows = [0.8, 0.2, 0.6, 0.4];
    assert_eq!(metric("recall").compute(sparse, 2, &rows, &[0.0, 1.0]), 0.5);
}

#[test]
fn auc_is_the_trapezoid_area_over_keras_200_thresholds() {
    // Scores separated by thresholds: the exact ROC area, 0.75 (points
    // (1,1), (0.5,1), (0.5,0.5), (0,0.5), (0,0)).
    let bce = Loss::BinaryCrossentropy;
    let auc = metric("auc").compute(bce, 1, &[0.1, 0.4, 0.35, 0.8], &[0.0, 0.0, 1.0, 1.0]);
    assert!((auc - 0.75).abs() < 1e-12, "{auc}");
    // Two scores between the same thresholds (99/199 and 100/199): the
    // curve jumps from (1,1) to (0,0) and interpolation gives 0.5, where
    // the exact area is 1.
    let auc = metric("auc").compute(bce, 1, &[0.501, 0.502], &[0.0, 1.0]);
    assert!((auc - 0.5).abs() < 1e-12, "{auc}");
    // Perfectly separated: 1.
    let auc = metric("auc").compute(bce, 1, &[0.1, 0.2, 0.8, 0.9], &[0.0, 0.0, 1.0, 1.0]);
    assert!((auc - 1.0).abs() < 1e-12, "{auc}");
}

#[test]
fn mean_squared_and_absolute_error() {
    let pred = [1.0, 2.0, 3.0, 4.0];
    let target = [1.5, 2.0, 2.0, 6.0];
    let mse = Loss::MeanSquaredError;
    assert_eq!(
        metric("mse").compute(mse, 2, &pred, &target),
        (0.25 + 1.0 + 4.0) / 4.0
    );
    assert_eq!(metric("mae").compute(mse, 2, &pred, &target), 3.5 / 4.0);
    assert_eq!(metric("mean_absolute_error").name, "mean_absolute_error");
}

#[test]
fn unknown_metric_names_list_the_known_ones() {
    let err = Metric::named("f1").unwrap_err().to_string();
    assert!(
        err.contains("unknown metric `f1`") && err.contains("auc"),
        "{err}"
    );
}

#[test]
fn confusion_matrix_counts_and_prints() {
    let mut m = ConfusionMatrix::new(vec!["cat".into(), "dog".into(), "bird".into()]);
    m.add(
        Loss::SparseCategoricalCrossentropy,
        3,
        &ROWS,
        &[1.0, 0.0, 1.0, 2.0],
    )
    .unwrap();
    // Row 0: dog as dog; row 1: cat as cat; row 2: dog as bird; row 3: NaN.
    assert_eq!((m.count(1, 1), m.count(0, 0), m.count(1, 2)), (1, 1, 1));
    assert_eq!((m.total(), m.unpredictable), (3, 1));
    assert!((m.accuracy() - 2.0 / 3.0).abs() < 1e-12);
    let text = m.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("cat") && lines[0].contains("bird"), "{text}");
    assert_eq!(lines[3].trim_start(), "dog |     0     1     1", "{text}");
    assert!(text.contains("1 rows with NaN"), "{text}");
    let svg = m.svg();
    assert!(svg.starts_with("<svg") && svg.contains(">bird</text>") && svg.trim_end().ends_with("</svg>"));
    // Binary output: one unit, classes 0 and 1.
    let mut b = ConfusionMatrix::numbered(2);
    b.add(Loss::BinaryCrossentropy, 1, &[0.9, 0.2, 0.7], &[1.0, 1.0, 0.0])
        .unwrap();
    assert_eq!((b.count(1, 1), b.count(1, 0), b.count(0, 1)), (1, 1, 1));
}

#[test]
fn confusion_matrix_refuses_what_it_cannot_count() {
    let mut m = ConfusionMatrix::numbered(3);
    let before = m.clone();
    // Fewer targets than rows: indexed past the end (a panic).
    assert!(m
        .add(Loss::SparseCategoricalCrossentropy, 3, &ROWS, &[1.0])
        .is_err());
    // A label that is no class (NaN read as class 0, 3.7 as class 3, 7 as
    // an "unpredictable" row).
    for label in [f32::NAN, 3.7, 7.0, -1.0] {
        let err = m
            .add(
                Loss::SparseCategoricalCrossentropy,
                3,
                &ROWS,
                &[1.0, 0.0, label, 2.0],
            )
            .unwrap_err();
        assert!(matches!(err, NnError::Label { .. }), "{err:?}");
    }
    // Outputs of another width than the matrix's classes.
    assert!(m
        .add(Loss::CategoricalCrossentropy, 4, &[0.25; 8], &[0.25; 8])
        .is_err());
    assert!(m.add(Loss::BinaryCrossentropy, 1, &[0.5], &[1.0]).is_err());
    assert_eq!(m, before, "a refused batch counts nothing");
    // A class the matrix does not have was never predicted, and is not
    // another cell's count.
    m.add(
        Loss::SparseCategoricalCrossentropy,
        3,
        &ROWS,
        &[1.0, 0.0, 1.0, 2.0],
    )
    .unwrap();
    assert_eq!((m.count(0, 5), m.count(5, 0), m.count(1, 2)), (0, 0, 1));
}
