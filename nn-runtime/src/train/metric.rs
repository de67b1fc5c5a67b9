//! Metrics by Keras name, accumulated over an epoch or an evaluation.
//!
//! `accuracy` picks its flavour from the loss and the output width as Keras
//! does for `metrics=['accuracy']`: sparse for sparse cross-entropy, binary
//! for binary cross-entropy or a single output unit, categorical otherwise.
//! The others follow Keras 3's definitions: a binary threshold of 0.5 (a
//! prediction counts as positive when `> 0.5`), top-k with ties counted in
//! (TensorFlow's `in_top_k`), precision and recall over every element with
//! targets cast to booleans, and ROC AUC over 200 thresholds with
//! trapezoidal interpolation. A row with a NaN never counts as correct.

use crate::model_error::NnError;
use crate::train::loss::Loss;

/// Keras's AUC default `num_thresholds`.
const AUC_THRESHOLDS: usize = 200;

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Keras's `'accuracy'`: the flavour follows the loss and output width.
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    /// Target (one-hot) among the `k` highest predictions.
    TopKCategoricalAccuracy {
        k: usize,
    },
    /// Target (class index) among the `k` highest predictions.
    SparseTopKCategoricalAccuracy {
        k: usize,
    },
    Precision,
    Recall,
    /// Area under the ROC curve.
    Auc,
    MeanSquaredError,
    MeanAbsoluteError,
}

/// A metric and the name it is logged under (`accuracy`, `val_auc`,
/// `<output>_precision`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Metric {
    pub kind: MetricKind,
    pub name: &'static str,
}

/// The names `Metric::named` accepts, with what they mean.
const NAMES: &[(&str, MetricKind)] = &[
    ("accuracy", MetricKind::Accuracy),
    ("acc", MetricKind::Accuracy),
    ("binary_accuracy", MetricKind::BinaryAccuracy),
    ("categorical_accuracy", MetricKind::CategoricalAccuracy),
    (
        "sparse_categorical_accuracy",
        MetricKind::SparseCategoricalAccuracy,
    ),
    (
        "top_k_categorical_accuracy",
        MetricKind::TopKCategoricalAccuracy { k: 5 },
    ),
    (
        "sparse_top_k_categorical_accuracy",
        MetricKind::SparseTopKCategoricalAccuracy { k: 5 },
    ),
    ("precision", MetricKind::Precision),
    ("recall", MetricKind::Recall),
    ("auc", MetricKind::Auc),
    ("mean_squared_error", MetricKind::MeanSquaredError),
    ("mse", MetricKind::MeanSquaredError),
    ("mean_absolute_error", MetricKind::MeanAbsoluteError),
    ("mae", MetricKind::MeanAbsoluteError),
];

impl Metric {
    /// A metric by the string Keras accepts in `compile(metrics=[...])`,
    /// logged under that string as Keras 3 does (`'mse'` logs `mse`).
    /// Top-k metrics use Keras's default `k = 5`; see [`Metric::top_k`].
    pub fn named(name: &str) -> Result<Metric, NnError> {
        NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(name, kind)| Metric { kind, name })
            .ok_or_else(|| {
                let known: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
                NnError::Other(format!("unknown metric `{name}`; known: {}", known.join(", ")))
            })
    }

    pub const ACCURACY: Metric = Metric {
        kind: MetricKind::Accuracy,
        name: "accuracy",
    };

    /// `top_k_categorical_accuracy` (or the sparse one) with another `k`.
    pub fn top_k(k: usize, sparse: bool) -> Metric {
        if sparse {
            Metric {
                kind: MetricKind::SparseTopKCategoricalAccuracy { k },
                name: "sparse_top_k_categorical_accuracy",
            }
        } else {
            Metric {
                kind: MetricKind::TopKCategoricalAccuracy { k },
                name: "top_k_categorical_accuracy",
            }
        }
    }

    /// The metric over one set of predictions (rows of `width`) and
    /// targets as `loss` expects them; `fit` and `evaluate` accumulate the
    /// same sums batch by batch.
    pub fn compute(&self, loss: Loss, width: usize, pred: &[f32], target: &[f32]) -> f64 {
        let mut state = self.state();
        state.update(self, loss, width, pred, target);
        state.result(self)
    }

    /// Checks that this metric can read targets made for `loss`.
    pub(crate) fn check(&self, loss: Loss, output: &str) -> Result<(), NnError> {
        let sparse_targets = loss == Loss::SparseCategoricalCrossentropy;
        let wants_sparse = matches!(
            self.kind,
            MetricKind::SparseCategoricalAccuracy | MetricKind::SparseTopKCategoricalAccuracy { .. }
        );
        let wants_dense = matches!(
            self.kind,
            MetricKind::CategoricalAccuracy
                | MetricKind::TopKCategoricalAccuracy { .. }
                | MetricKind::BinaryAccuracy
                | MetricKind::MeanSquaredError
                | MetricKind::MeanAbsoluteError
        );
        if (wants_sparse && !sparse_targets) || (wants_dense && sparse_targets) {
            let kind = if sparse_targets {
                "class indices"
            } else {
                "one value per output unit"
            };
            return Err(NnError::Other(format!(
                "metric `{}` on output `{output}` cannot read the targets of {} ({kind})",
                self.name,
                loss.name()
            )));
        }
        if let MetricKind::TopKCategoricalAccuracy { k: 0 }
        | MetricKind::SparseTopKCategoricalAccuracy { k: 0 } = self.kind
        {
            return Err(NnError::Other(format!("metric `{}` needs k >= 1", self.name)));
        }
        Ok(())
    }

    /// A fresh accumulator.
    pub(crate) fn state(&self) -> MetricState {
        match self.kind {
            MetricKind::Precision | MetricKind::Recall => MetricState::Confusion {
                true_pos: 0,
                false_pos: 0,
                false_neg: 0,
            },
            MetricKind::Auc => MetricState::Roc(Box::default()),
            _ => MetricState::Mean { sum: 0.0, count: 0 },
        }
    }
}

/// Per-threshold counts for AUC.
#[derive(Debug, Clone)]
pub(crate) struct Roc {
    true_pos: [u64; AUC_THRESHOLDS],
    false_pos: [u64; AUC_THRESHOLDS],
    positives: u64,
    negatives: u64,
}

impl Default for Roc {
    fn default() -> Self {
        Self {
            true_pos: [0; AUC_THRESHOLDS],
            false_pos: [0; AUC_THRESHOLDS],
            positives: 0,
            negatives: 0,
        }
    }
}

/// Keras's thresholds: `-1e-7`, `i / 199` for `i` in `1..199`, `1 + 1e-7`.
fn auc_threshold(i: usize) -> f32 {
    match i {
        0 => -1e-7,
        i if i == AUC_THRESHOLDS - 1 => 1.0 + 1e-7,
        i => i as f32 / (AUC_THRESHOLDS - 1) as f32,
    }
}

impl Roc {
    fn add(&mut self, p: f32, positive: bool) {
        if positive {
            self.positives += 1;
        } else {
            self.negatives += 1;
        }
        // Thresholds increase: `p > t` holds for a prefix of them.
        let above = (0..AUC_THRESHOLDS).take_while(|&i| p > auc_threshold(i)).count();
        let counts = if positive {
            &mut self.true_pos
        } else {
            &mut self.false_pos
        };
        counts[..above].iter_mut().for_each(|c| *c += 1);
    }

    /// Trapezoids under (false-positive rate, true-positive rate) from the
    /// lowest threshold to the highest; a rate with a zero denominator is 0.
    fn area(&self) -> f64 {
        let rate = |count: u64, total: u64| {
            if total == 0 {
                0.0
            } else {
                count as f64 / total as f64
            }
        };
        (0..AUC_THRESHOLDS - 1)
            .map(|i| {
                let x = (
                    rate(self.false_pos[i], self.negatives),
                    rate(self.false_pos[i + 1], self.negatives),
                );
                let y = (
                    rate(self.true_pos[i], self.positives),
                    rate(self.true_pos[i + 1], self.positives),
                );
                (x.0 - x.1) * (y.0 + y.1) / 2.0
            })
            .sum()
    }
}

/// A metric's running totals.
#[derive(Debug, Clone)]
pub(crate) enum MetricState {
    Mean {
        sum: f64,
        count: u64,
    },
    Confusion {
        true_pos: u64,
        false_pos: u64,
        false_neg: u64,
    },
    Roc(Box<Roc>),
}

/// Index of the largest value, or `None` when the row holds a NaN.
pub(crate) fn argmax(row: &[f32]) -> Option<usize> {
    if row.iter().any(|v| v.is_nan()) {
        return None;
    }
    Some(
        row.iter()
            .enumerate()
            .fold(
                (0, f32::NEG_INFINITY),
                |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) },
            )
            .0,
    )
}

/// Whether class `target` is among the `k` highest of `row`, ties counted
/// in (fewer than `k` values are strictly higher).
fn in_top_k(row: &[f32], target: usize, k: usize) -> bool {
    let Some(&t) = row.get(target) else {
        return false;
    };
    t.is_finite() && row.iter().filter(|&&v| v > t).count() < k
}

/// The true value of element `c` of row `r`, for dense or sparse targets.
fn target_value(sparse: bool, target: &[f32], width: usize, r: usize, c: usize) -> f32 {
    if sparse {
        (target[r] as usize == c) as u8 as f32
    } else {
        target[r * width + c]
    }
}

impl MetricState {
    /// Adds a batch: `pred` in rows of `width`, `target` as `loss` expects.
    pub(crate) fn update(&mut self, metric: &Metric, loss: Loss, width: usize, pred: &[f32], target: &[f32]) {
        let rows = pred.len() / width.max(1);
        let sparse = loss == Loss::SparseCategoricalCrossentropy;
        let row = |r: usize| &pred[r * width..(r + 1) * width];
        let kind = match metric.kind {
            MetricKind::Accuracy if sparse => MetricKind::SparseCategoricalAccuracy,
            MetricKind::Accuracy if loss == Loss::BinaryCrossentropy || width == 1 => {
                MetricKind::BinaryAccuracy
            }
            MetricKind::Accuracy => MetricKind::CategoricalAccuracy,
            kind => kind,
        };
        match self {
            MetricState::Mean { sum, count } => {
                let (s, n) = match kind {
                    MetricKind::BinaryAccuracy => {
                        let hits = pred
                            .iter()
                            .zip(target)
                            .filter(|(&p, &t)| !p.is_nan() && (p > 0.5) as u8 as f32 == t);
                        (hits.count() as f64, pred.len())
                    }
                    MetricKind::CategoricalAccuracy => {
                        let hits = (0..rows).filter(|&r| {
                            argmax(row(r))
                                .is_some_and(|a| Some(a) == argmax(&target[r * width..(r + 1) * width]))
                        });
                        (hits.count() as f64, rows)
                    }
                    MetricKind::SparseCategoricalAccuracy => {
                        let hits = (0..rows).filter(|&r| argmax(row(r)) == Some(target[r] as usize));
                        (hits.count() as f64, rows)
                    }
                    MetricKind::TopKCategoricalAccuracy { k } => {
                        let hits = (0..rows).filter(|&r| {
                            argmax(&target[r * width..(r + 1) * width])
                                .is_some_and(|t| in_top_k(row(r), t, k))
                        });
                        (hits.count() as f64, rows)
                    }
                    MetricKind::SparseTopKCategoricalAccuracy { k } => {
                        let hits = (0..rows).filter(|&r| in_top_k(row(r), target[r] as usize, k));
                        (hits.count() as f64, rows)
                    }
                    MetricKind::MeanSquaredError => {
                        let s = pred
                            .iter()
                            .zip(target)
                            .map(|(&p, &t)| (p as f64 - t as f64).powi(2));
                        (s.sum(), pred.len())
                    }
                    MetricKind::MeanAbsoluteError => {
                        let s = pred
                            .iter()
                            .zip(target)
                            .map(|(&p, &t)| (p as f64 - t as f64).abs());
                        (s.sum(), pred.len())
                    }
                    _ => (0.0, 0),
                };
                *sum += s;
                *count += n as u64;
            }
            MetricState::Confusion {
                true_pos,
                false_pos,
                false_neg,
            } => {
                for r in 0..rows {
                    for (c, &p) in row(r).iter().enumerate() {
                        let actual = target_value(sparse, target, width, r, c) != 0.0;
                        match (p > 0.5, actual) {
                            (true, true) => *true_pos += 1,
                            (true, false) => *false_pos += 1,
                            (false, true) => *false_neg += 1,
                            (false, false) => {}
                        }
                    }
                }
            }
            MetricState::Roc(roc) => {
                for r in 0..rows {
                    for (c, &p) in row(r).iter().enumerate() {
                        roc.add(p, target_value(sparse, target, width, r, c) != 0.0);
                    }
                }
            }
        }
    }

    /// The running sums as floats, for adding across processes.
    #[cfg(feature = "mpi")]
    pub(crate) fn push_sums(&self, out: &mut Vec<f64>) {
        match self {
            MetricState::Mean { sum, count } => out.extend([*sum, *count as f64]),
            MetricState::Confusion {
                true_pos,
                false_pos,
                false_neg,
            } => out.extend([*true_pos as f64, *false_pos as f64, *false_neg as f64]),
            MetricState::Roc(roc) => {
                out.extend(roc.true_pos.iter().chain(&roc.false_pos).map(|&c| c as f64));
                out.extend([roc.positives as f64, roc.negatives as f64]);
            }
        }
    }

    /// Reads what [`MetricState::push_sums`] wrote for `metric`.
    #[cfg(feature = "mpi")]
    pub(crate) fn from_sums(metric: &Metric, sums: &mut impl Iterator<Item = f64>) -> MetricState {
        let mut next = || sums.next().unwrap_or(0.0);
        match metric.state() {
            MetricState::Mean { .. } => MetricState::Mean {
                sum: next(),
                count: next() as u64,
            },
            MetricState::Confusion { .. } => MetricState::Confusion {
                true_pos: next() as u64,
                false_pos: next() as u64,
                false_neg: next() as u64,
            },
            MetricState::Roc(mut roc) => {
                roc.true_pos.iter_mut().for_each(|c| *c = next() as u64);
                roc.false_pos.iter_mut().for_each(|c| *c = next() as u64);
                roc.positives = next() as u64;
                roc.negatives = next() as u64;
                MetricState::Roc(roc)
            }
        }
    }

    /// The metric's value over everything added (0 for nothing counted).
    pub(crate) fn result(&self, metric: &Metric) -> f64 {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        match self {
            MetricState::Mean { sum, count } => {
                if *count == 0 {
                    0.0
                } else {
                    sum / *count as f64
                }
            }
            MetricState::Confusion {
                true_pos,
                false_pos,
                false_neg,
            } => match metric.kind {
                MetricKind::Recall => ratio(*true_pos, true_pos + false_neg),
                _ => ratio(*true_pos, true_pos + false_pos),
            },
            MetricState::Roc(roc) => roc.area(),
        }
    }
}

/// Counts correct predictions in a batch with Keras's `'accuracy'`:
/// returns (correct, counted).
pub fn accuracy(loss: Loss, width: usize, pred: &[f32], target: &[f32]) -> (usize, usize) {
    let mut state = Metric::ACCURACY.state();
    state.update(&Metric::ACCURACY, loss, width, pred, target);
    match state {
        MetricState::Mean { sum, count } => (sum as usize, count as usize),
        _ => (0, 0),
    }
}
