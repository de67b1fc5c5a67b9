//! Whole-array forward passes run in chunks of samples, so the memory a
//! network keeps is bounded by the chunk, not by the array.

use ndarray::{ArrayD, ArrayViewD, Axis, IxDyn, Slice};

use crate::model::{Mode, Model};
use crate::model_error::NnError;

/// Floats of activations an inference chunk may use (64 MiB): dozens of
/// samples even for large networks, so per-call overhead is amortised, yet
/// predicting on a whole dataset does not pin gigabytes for the network's
/// lifetime.
pub const INFERENCE_BUDGET_FLOATS: usize = 16 << 20;

/// Samples per chunk of an inference call on whole arrays (the typed
/// `predict`, [`Model::forward_arrays`] in inference mode): as many as fit
/// in [`INFERENCE_BUDGET_FLOATS`] of the inference layout, at least one:
/// a handful of 224x224 images for ResNet-50, hundreds of the lecture's
/// 64x64 ones. (Keras's `predict` runs 32 samples at a time whatever their
/// size; [`crate::train::predict`] takes the batch size explicitly.)
pub fn default_chunk<M: Model>() -> usize {
    (INFERENCE_BUDGET_FLOATS / M::INFERENCE_ARENA_PER_SAMPLE.max(1)).max(1)
}

/// Runs `model` on `total` samples of `inputs` (already checked against the
/// network: count, per-sample shapes, equal sample counts) in chunks of at
/// most `chunk`, and gathers each output into one array.
pub(crate) fn forward_in_chunks<M: Model>(
    model: &mut M,
    inputs: &[ArrayViewD<f32>],
    total: usize,
    chunk: usize,
    mode: Mode,
) -> Result<Vec<ArrayD<f32>>, NnError> {
    let spec = M::SPEC;
    let chunk = chunk.clamp(1, total.max(1));
    let mut outputs = spec
        .outputs
        .iter()
        .map(|o| reserve(total, o.len(), o.name))
        .collect::<Result<Vec<_>, _>>()?;
    // Inputs that are not contiguous (a broadcast or strided view) are
    // copied one chunk at a time.
    let mut copies = spec.inputs.iter().map(|_| Vec::new()).collect::<Vec<Vec<f32>>>();
    let mut start = 0;
    while start < total {
        let end = (start + chunk).min(total);
        let n = end - start;
        let views: Vec<ArrayViewD<f32>> = inputs
            .iter()
            .map(|a| a.slice_axis(Axis(0), Slice::from(start..end)))
            .collect();
        for ((view, copy), tensor) in views.iter().zip(&mut copies).zip(spec.inputs) {
            if view.as_slice().is_none() {
                copy.clear();
                if copy.try_reserve_exact(n * tensor.len()).is_err() {
                    return Err(NnError::OutOfMemory {
                        what: format!("a copy of input `{}`", tensor.name),
                        bytes: n * tensor.len() * 4,
                    });
                }
                copy.extend(view.iter().copied());
            }
        }
        let slices: Vec<&[f32]> = views
            .iter()
            .zip(&copies)
            .map(|(view, copy)| view.as_slice().unwrap_or(copy))
            .collect();
        model.forward_slices(n, &slices, mode)?;
        for (i, acc) in outputs.iter_mut().enumerate() {
            let out = model
                .output(i)
                .ok_or_else(|| NnError::Other(format!("internal error: no output {i}")))?;
            acc.extend_from_slice(out);
        }
        start = end;
    }
    spec.outputs
        .iter()
        .zip(outputs)
        .map(|(o, data)| {
            let mut shape = vec![total];
            shape.extend_from_slice(o.shape);
            ArrayD::from_shape_vec(IxDyn(&shape), data)
                .map_err(|e| NnError::Other(format!("internal error: output `{}`: {e}", o.name)))
        })
        .collect()
}

/// An empty vector with room for `samples * per_sample` floats, or an error
/// when that cannot be allocated.
fn reserve(samples: usize, per_sample: usize, name: &str) -> Result<Vec<f32>, NnError> {
    let fail = |bytes| NnError::OutOfMemory {
        what: format!("output `{name}` of {samples} samples"),
        bytes,
    };
    let len = samples.checked_mul(per_sample).ok_or_else(|| fail(usize::MAX))?;
    let mut v = Vec::new();
    v.try_reserve_exact(len)
        .map_err(|_| fail(len.saturating_mul(std::mem::size_of::<f32>())))?;
    Ok(v)
}
