//! Weights in safetensors files, with Keras names and layouts
//! (`conv2d_1.kernel` as `[kh, kw, cin, cout]`, `dense_1.bias`, batch norm's
//! `gamma`, `beta`, `moving_mean`, `moving_variance`), so a PyTorch or Keras
//! user reads them with `safetensors.safe_open` and no converter.
//!
//! Saving writes a temporary file beside the target, syncs it and renames it
//! over the target ([`crate::io::atomic`]): an interrupted save leaves the
//! previous file intact.
//! Loading checks every tensor and reports every missing, unexpected and
//! mis-shaped one in a single error, leaving the network untouched on error.
//! The metadata records which network wrote the file, by name and
//! architecture fingerprint ([`super::writer`]).

use std::collections::BTreeMap;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::model_error::NnError;
use crate::spec::{ModelSpec, ParamSpec};

/// The file's bytes for these parameters and state.
pub fn to_bytes(spec: &ModelSpec, params: &[f32], state: &[f32]) -> Result<Vec<u8>, NnError> {
    if params.len() != spec.param_len || state.len() != spec.state_len {
        return Err(NnError::invalid_argument(
            spec.name,
            format!(
                "{} parameters and {} state values given, the network has {} and {}",
                params.len(),
                state.len(),
                spec.param_len,
                spec.state_len
            ),
        ));
    }
    let bytes: Vec<(&str, Vec<usize>, Vec<u8>)> = spec
        .params
        .iter()
        .map(|p| {
            let source = if p.trainable { params } else { state };
            let values = &source[p.offset..p.offset + p.len];
            let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (p.key, p.shape.to_vec(), raw)
        })
        .collect();
    let mut views = BTreeMap::new();
    for (key, shape, raw) in &bytes {
        let view = TensorView::new(Dtype::F32, shape.clone(), raw)
            .map_err(|e| NnError::Other(format!("tensor `{key}`: {e}")))?;
        views.insert(key.to_string(), view);
    }
    safetensors::serialize(views, Some(super::writer::metadata(spec)))
        .map_err(|e| NnError::Other(format!("serialize weights: {e}")))
}

/// Writes the weights to `path` atomically (see [`crate::io::atomic`]).
/// NaN or infinite weights are refused: `load` refuses such a file, so
/// writing it would replace a loadable file with one that is not.
pub fn save(spec: &ModelSpec, params: &[f32], state: &[f32], path: &Path) -> Result<(), NnError> {
    for p in spec.params {
        let source = if p.trainable { params } else { state };
        let values = source.get(p.offset..p.offset + p.len).unwrap_or(&[]);
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(NnError::invalid_argument(
                spec.name,
                format!(
                    "`{}` holds {bad}; weights that are not finite are not saved (`{}` is left as it was)",
                    p.key,
                    path.display()
                ),
            ));
        }
    }
    let bytes = to_bytes(spec, params, state)?;
    crate::io::atomic::write("write weights to", path, &bytes)
}

/// Whose weights a load accepts: a file that names the network that wrote
/// it (every file `save` writes does) must name this one, unless the caller
/// says the network was renamed. Files of other tools name none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    ThisNetwork,
    AnyNetwork,
}

/// Reads weights from bytes into fresh buffers, checking every tensor.
pub fn from_bytes(
    spec: &ModelSpec,
    bytes: &[u8],
    origin: &str,
    writer: Writer,
) -> Result<(Vec<f32>, Vec<f32>), NnError> {
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| NnError::invalid_file(origin, None, format!("is not a valid safetensors file: {e}")))?;
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| NnError::invalid_file(origin, None, format!("is not a valid safetensors file: {e}")))?;
    let mut problems = Vec::new();
    if writer == Writer::ThisNetwork {
        problems.extend(super::writer::problem(spec, header.metadata().as_ref()));
    }
    let (params, state) = fill(
        spec,
        &file,
        |p| Some((p.key.to_string(), format!("`{}`", p.key))),
        &mut problems,
    );
    let mut unexpected: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| spec.param(n).is_none())
        .collect();
    unexpected.sort();
    for name in unexpected {
        problems.push(format!("unexpected tensor `{name}`"));
    }
    if problems.is_empty() {
        Ok((params, state))
    } else {
        Err(NnError::WeightMismatch {
            file: origin.to_string(),
            network: spec.name,
            problems,
        })
    }
}

/// Copies every parameter of `spec` out of `file` into fresh buffers.
/// `locate` gives, per parameter, the file's key for it and how messages
/// name it (`None`: nothing in the file is meant for it). Every missing,
/// mis-typed, mis-shaped and non-finite tensor is added to `problems`.
pub(crate) fn fill(
    spec: &ModelSpec,
    file: &SafeTensors,
    locate: impl Fn(&ParamSpec) -> Option<(String, String)>,
    problems: &mut Vec<String>,
) -> (Vec<f32>, Vec<f32>) {
    let mut params = vec![0.0; spec.param_len];
    let mut state = vec![0.0; spec.state_len];
    for p in spec.params {
        let Some((key, label)) = locate(p) else {
            problems.push(format!(
                "nothing in the file for `{}` (shape {:?})",
                p.key, p.shape
            ));
            continue;
        };
        let Ok(view) = file.tensor(&key) else {
            problems.push(format!("missing tensor {label} (shape {:?})", p.shape));
            continue;
        };
        if view.dtype() != Dtype::F32 {
            problems.push(format!("tensor {label} is {:?}, expected F32", view.dtype()));
            continue;
        }
        if view.shape() != p.shape {
            problems.push(format!(
                "tensor {label} has shape {:?}, expected {:?}",
                view.shape(),
                p.shape
            ));
            continue;
        }
        let target = if p.trainable { &mut params } else { &mut state };
        for (dst, chunk) in target[p.offset..p.offset + p.len]
            .iter_mut()
            .zip(view.data().chunks_exact(4))
        {
            *dst = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        // A NaN or infinite weight only ever makes every prediction NaN.
        let values = &target[p.offset..p.offset + p.len];
        if let Some(at) = values.iter().position(|v| !v.is_finite()) {
            let count = values.iter().filter(|v| !v.is_finite()).count();
            problems.push(format!(
                "tensor {label} holds {count} non-finite value(s), the first {} at flat index {at}",
                values[at]
            ));
        }
    }
    (params, state)
}

/// Reads and checks the weights in `path`.
pub fn load(spec: &ModelSpec, path: &Path, writer: Writer) -> Result<(Vec<f32>, Vec<f32>), NnError> {
    let bytes = super::whole_file::read("read weights from", path)?;
    from_bytes(spec, &bytes, &path.display().to_string(), writer)
}
