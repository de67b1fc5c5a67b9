//! ONNX export: a network and its weights as one self-contained `.onnx`
//! file that ONNX Runtime, tract, TensorRT and phone runtimes load.
//!
//! The file holds opset 13, weights as initializers (named by their weight
//! file keys; convolution kernels transposed to ONNX's `[out, in, h, w]`),
//! batch norm in its inference form, the network's inputs and outputs by
//! their `network!` names in nn's NHWC layout, and a symbolic batch
//! dimension `batch`. The graph is derived from the spec's typed layer
//! descriptions ([`crate::layer_config::LayerConfig`]), see [`graph`].

mod graph;
mod proto;

use std::path::Path;

use prost::Message;

use crate::fingerprint::fingerprint;
use crate::model_error::NnError;
use crate::spec::ModelSpec;
use proto::{ModelProto, OperatorSetIdProto, StringStringEntryProto};

pub use graph::BATCH;

/// The operator set the graph is written against.
pub const OPSET: i64 = 13;
/// The ONNX IR version that goes with opset 13.
const IR_VERSION: i64 = 7;

/// The `.onnx` file's bytes for this network and these weights.
pub fn to_bytes(spec: &ModelSpec, params: &[f32], state: &[f32]) -> Result<Vec<u8>, NnError> {
    if params.len() != spec.param_len || state.len() != spec.state_len {
        return Err(NnError::Other(format!(
            "{}: cannot export to ONNX: {} parameters and {} state values given, the network has {} and {}",
            spec.name,
            params.len(),
            state.len(),
            spec.param_len,
            spec.state_len
        )));
    }
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "nn".to_string(),
        producer_version: env!("CARGO_PKG_VERSION").to_string(),
        doc_string: format!("network `{}` exported by nn", spec.name),
        graph: Some(graph::graph(spec, params, state)?),
        metadata_props: vec![
            StringStringEntryProto {
                key: "model".to_string(),
                value: spec.name.to_string(),
            },
            StringStringEntryProto {
                key: "architecture_fingerprint".to_string(),
                value: fingerprint(spec),
            },
        ],
    };
    Ok(model.encode_to_vec())
}

/// Writes the network as ONNX to `path`: into a temporary file beside it
/// first, then renamed over it, so an interrupted export leaves any previous
/// file intact.
pub fn save(spec: &ModelSpec, params: &[f32], state: &[f32], path: &Path) -> Result<(), NnError> {
    let bytes = to_bytes(spec, params, state)?;
    crate::io::atomic::write("write ONNX model to", path, &bytes)
}
