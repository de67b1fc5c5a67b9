//! Losses, each returning its mean value over the batch and writing the
//! gradient a network's backward pass starts from.
//!
//! Cross-entropy after softmax (and binary cross-entropy after sigmoid) is
//! fused: the gradient written is that of the pre-activation, `(p - t) / N`,
//! which is exact and stable however small `p` gets, and the network is told
//! to skip that activation's backward.
//!
//! The *reported* loss on those paths is Keras 3's (TensorFlow backend),
//! which takes the logits the softmax or sigmoid came from and is not
//! clipped: `-ln p` of the probability the activation computed in f32, which
//! equals `logsumexp(z) - z_t` to f32 rounding while `p` is representable
//! (a per-sample loss up to about 87, or 103 with subnormals). Only beyond
//! that, where `p` has underflowed to 0, is it held at `-ln` of the smallest
//! positive f32 (103.3): the generated code does not keep the logits. A
//! sigmoid output that rounded to exactly 1.0 (logit above about 16.6)
//! likewise gives at most `-ln(2^-24)` = 16.6 for a 0 target.

use crate::activation::Activation;
use crate::model_error::NnError;

/// Keras clips probabilities to `[ε, 1 - ε]` before taking logs.
const EPSILON: f32 = 1e-7;

/// The smallest positive f32: `-ln` of it bounds the from-logits loss.
const TINY: f64 = 1.401_298_464_324_817e-45;

/// `1 - p` for the largest sigmoid output below 1.0 (`2^-24`).
const ONE_MINUS_LARGEST: f64 = 5.960_464_477_539_063e-8;

/// `ln p` as Keras computes it from logits (unclipped) or from
/// probabilities (clipped to `[ε, 1 - ε]`).
fn log_probability(p: f32, from_logits: bool) -> f64 {
    if from_logits {
        // `max` would turn a NaN into TINY: a NaN must stay NaN.
        let p = p as f64;
        if p.is_nan() {
            p
        } else {
            p.max(TINY).ln()
        }
    } else {
        (p.clamp(EPSILON, 1.0 - EPSILON) as f64).ln()
    }
}

/// `ln(1 - p)`, likewise.
fn log_complement(p: f32, from_logits: bool) -> f64 {
    if from_logits {
        let q = 1.0 - p as f64;
        if q.is_nan() {
            q
        } else {
            q.max(ONE_MINUS_LARGEST).ln()
        }
    } else {
        (1.0 - p.clamp(EPSILON, 1.0 - EPSILON) as f64).ln()
    }
}

/// A loss, as named in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loss {
    /// Targets are one-hot (or probability) rows.
    CategoricalCrossentropy,
    /// Targets are class indices, one per row.
    SparseCategoricalCrossentropy,
    /// Targets are 0/1 per element.
    BinaryCrossentropy,
    MeanSquaredError,
}

impl Loss {
    pub fn name(self) -> &'static str {
        match self {
            Loss::CategoricalCrossentropy => "categorical_crossentropy",
            Loss::SparseCategoricalCrossentropy => "sparse_categorical_crossentropy",
            Loss::BinaryCrossentropy => "binary_crossentropy",
            Loss::MeanSquaredError => "mean_squared_error",
        }
    }

    /// Target floats per sample for an output of `width` values per row and
    /// `rows` rows per sample.
    pub fn target_len(self, rows: usize, width: usize) -> usize {
        match self {
            Loss::SparseCategoricalCrossentropy => rows,
            _ => rows * width,
        }
    }

    /// Whether this loss fuses with the output's activation.
    pub fn fuses_with(self, activation: Option<Activation>) -> bool {
        matches!(
            (self, activation),
            (
                Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy,
                Some(Activation::Softmax)
            ) | (Loss::BinaryCrossentropy, Some(Activation::Sigmoid))
        )
    }

    /// Mean loss over the rows of `pred` (rows of `width`), and
    /// `grad = scale * d(loss)/d(pred)` — or the pre-activation gradient when
    /// `fused`. With `fused`, the loss is the from-logits value (see the
    /// module doc); pass `fused` with no `grad` to report that value in
    /// evaluation. Sparse targets are class indices stored as floats.
    pub fn evaluate(
        self,
        width: usize,
        pred: &[f32],
        target: &[f32],
        fused: bool,
        scale: f32,
        grad: Option<&mut [f32]>,
    ) -> Result<f64, NnError> {
        self.evaluate_weighted(width, pred, target, None, fused, scale, grad)
    }

    /// [`Loss::evaluate`] with one weight per sample (`sample_weights.len()`
    /// samples of equally many rows): Keras 3's `sum_over_batch_size`
    /// reduction, the sum of the weighted per-row losses divided by the
    /// number of rows (not by the sum of the weights).
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_weighted(
        self,
        width: usize,
        pred: &[f32],
        target: &[f32],
        sample_weights: Option<&[f32]>,
        fused: bool,
        scale: f32,
        grad: Option<&mut [f32]>,
    ) -> Result<f64, NnError> {
        // Whole rows, at least one: a mean over none is 0/0, a partial row
        // would be dropped without a word.
        if width == 0 || pred.is_empty() || !pred.len().is_multiple_of(width) {
            return Err(NnError::invalid_argument(
                self.name(),
                format!(
                    "{} predictions are not one or more whole rows of width {width}",
                    pred.len()
                ),
            ));
        }
        let rows = pred.len() / width;
        if let Some(g) = grad.as_deref() {
            if g.len() != pred.len() {
                return Err(NnError::invalid_argument(
                    self.name(),
                    format!(
                        "the gradient buffer holds {} values for {} predictions; give one per prediction",
                        g.len(),
                        pred.len()
                    ),
                ));
            }
        }
        if target.len() != self.target_len(rows, width) {
            return Err(NnError::invalid_argument(
                self.name(),
                format!(
                    "targets have {} values, expected {} for predictions of shape [{rows}, {width}]",
                    target.len(),
                    self.target_len(rows, width)
                ),
            ));
        }
        let rows_per_sample = match sample_weights {
            Some(w) if w.is_empty() || !rows.is_multiple_of(w.len()) => {
                return Err(NnError::invalid_argument(
                    self.name(),
                    format!("{} sample weights for {rows} rows of predictions", w.len()),
                ))
            }
            Some(w) => rows / w.len(),
            None => 1,
        };
        let row_weight = |r: usize| sample_weights.map_or(1.0, |w| w[r / rows_per_sample]);
        // Keras averages over every axis but the last, then over the batch:
        // the mean over all rows.
        let inv_rows = 1.0 / rows as f32;
        let mut total = 0.0f64;
        let mut grad = grad;
        match self {
            Loss::CategoricalCrossentropy | Loss::SparseCategoricalCrossentropy => {
                for r in 0..rows {
                    let p = &pred[r * width..(r + 1) * width];
                    let label = if self == Loss::SparseCategoricalCrossentropy {
                        let v = target[r];
                        if v < 0.0 || v as usize >= width || v.fract() != 0.0 {
                            return Err(NnError::Label {
                                context: self.name().into(),
                                label: v as f64,
                                sample: None,
                                classes: width,
                            });
                        }
                        Some(v as usize)
                    } else {
                        None
                    };
                    let t = |c: usize| match label {
                        Some(l) => (c == l) as u8 as f32,
                        None => target[r * width + c],
                    };
                    let w = row_weight(r);
                    let mut row_loss = 0.0;
                    for (c, &pc) in p.iter().enumerate() {
                        let tc = t(c);
                        if tc != 0.0 {
                            row_loss -= tc as f64 * log_probability(pc, fused);
                        }
                    }
                    total += w as f64 * row_loss;
                    if let Some(g) = grad.as_deref_mut() {
                        let g = &mut g[r * width..(r + 1) * width];
                        let k = scale * inv_rows * w;
                        for (c, (gc, &pc)) in g.iter_mut().zip(p).enumerate() {
                            *gc = if fused {
                                k * (pc - t(c))
                            } else {
                                -k * t(c) / pc.clamp(EPSILON, 1.0 - EPSILON)
                            };
                        }
                    }
                }
                total /= rows as f64;
            }
            Loss::BinaryCrossentropy => {
                let inv = inv_rows / width as f32;
                for (i, (&p, &t)) in pred.iter().zip(target).enumerate() {
                    let w = row_weight(i / width);
                    let pc = p.clamp(EPSILON, 1.0 - EPSILON);
                    total -= w as f64
                        * (t as f64 * log_probability(p, fused)
                            + (1.0 - t as f64) * log_complement(p, fused));
                    if let Some(g) = grad.as_deref_mut() {
                        g[i] = if fused {
                            scale * inv * w * (p - t)
                        } else {
                            scale * inv * w * (pc - t) / (pc * (1.0 - pc))
                        };
                    }
                }
                total /= pred.len() as f64;
            }
            Loss::MeanSquaredError => {
                let inv = inv_rows / width as f32;
                for (i, (&p, &t)) in pred.iter().zip(target).enumerate() {
                    let w = row_weight(i / width);
                    let d = p - t;
                    total += w as f64 * (d as f64) * (d as f64);
                    if let Some(g) = grad.as_deref_mut() {
                        g[i] = scale * 2.0 * inv * w * d;
                    }
                }
                total /= pred.len() as f64;
            }
        }
        Ok(total)
    }
}
