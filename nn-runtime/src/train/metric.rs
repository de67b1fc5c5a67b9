//! Accuracy, in Keras's three flavours, chosen from the loss and the output
//! width as Keras does for `metrics=['accuracy']`: sparse for sparse
//! cross-entropy, binary for binary cross-entropy or a single output unit,
//! categorical otherwise.

use crate::train::loss::Loss;

/// Counts correct predictions in a batch: returns (correct, counted).
pub fn accuracy(loss: Loss, width: usize, pred: &[f32], target: &[f32]) -> (usize, usize) {
    let rows = pred.len() / width.max(1);
    // A row holding NaN has no argmax (`None`): it never counts as correct.
    let argmax = |row: &[f32]| {
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
    };
    match loss {
        Loss::SparseCategoricalCrossentropy => {
            let correct = (0..rows)
                .filter(|&r| argmax(&pred[r * width..(r + 1) * width]) == Some(target[r] as usize))
                .count();
            (correct, rows)
        }
        _ if loss == Loss::BinaryCrossentropy || width == 1 => {
            let correct = pred
                .iter()
                .zip(target)
                .filter(|(&p, &t)| !p.is_nan() && (p > 0.5) == (t > 0.5))
                .count();
            (correct, pred.len())
        }
        _ => {
            let correct = (0..rows)
                .filter(|&r| {
                    let predicted = argmax(&pred[r * width..(r + 1) * width]);
                    predicted.is_some() && predicted == argmax(&target[r * width..(r + 1) * width])
                })
                .count();
            (correct, rows)
        }
    }
}
