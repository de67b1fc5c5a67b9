//! Keras's `class_weight`: a loss weight per class, turned into a weight per
//! sample from each sample's target class, for training only.

use std::collections::HashMap;

use crate::model_error::NnError;
use crate::train::dataset::Column;
use crate::train::metric::argmax;

/// Each sample's weight is `class_weight[class]` (1 for classes not in the
/// map), where the class is the target's argmax for one-hot targets and
/// the rounded target for a single value (a class index or a 0/1 label),
/// as Keras 3 converts them.
pub fn sample_weights(targets: &Column, class_weight: &HashMap<usize, f32>) -> Result<Vec<f32>, NnError> {
    if let Some((class, w)) = class_weight.iter().find(|(_, w)| !(w.is_finite() && **w >= 0.0)) {
        return Err(NnError::Other(format!(
            "class_weight {w} for class {class} is not a finite number >= 0"
        )));
    }
    let len = targets.sample_len();
    if targets.sample_shape.len() > 1
        && targets.sample_shape[..targets.sample_shape.len() - 1]
            .iter()
            .product::<usize>()
            > 1
    {
        return Err(NnError::Other(format!(
            "class_weight needs one class per sample, but the targets have shape {:?} per sample",
            targets.sample_shape
        )));
    }
    targets
        .data
        .chunks(len.max(1))
        .enumerate()
        .map(|(i, t)| {
            let class = if len == 1 {
                let v = t[0].round();
                (v >= 0.0 && v.is_finite()).then_some(v as usize)
            } else {
                argmax(t)
            };
            let class = class.ok_or_else(|| {
                NnError::Other(format!("class_weight: the target of sample {i} names no class"))
            })?;
            Ok(*class_weight.get(&class).unwrap_or(&1.0))
        })
        .collect()
}
