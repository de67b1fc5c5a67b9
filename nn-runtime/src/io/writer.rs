//! Which network wrote a weight file: its name and architecture fingerprint
//! go into the safetensors metadata on save and are compared on load, so a
//! file written by another network is reported even when every tensor name
//! and shape happens to match.

use std::collections::HashMap;

use crate::fingerprint::fingerprint;
use crate::model_error::NnError;
use crate::spec::ModelSpec;

/// Metadata keys in the safetensors header.
pub const FORMAT: &str = "format";
pub const MODEL: &str = "model";
pub const FINGERPRINT: &str = "architecture_fingerprint";
pub const WRITER: &str = "writer";

/// The metadata nn writes beside the tensors.
pub fn metadata(spec: &ModelSpec) -> HashMap<String, String> {
    HashMap::from([
        (FORMAT.to_string(), "nn".to_string()),
        (MODEL.to_string(), spec.name.to_string()),
        (FINGERPRINT.to_string(), fingerprint(spec)),
        (
            WRITER.to_string(),
            concat!("nn-runtime ", env!("CARGO_PKG_VERSION")).to_string(),
        ),
    ])
}

/// Checks that a file's metadata names this network's architecture.
///
/// Files nn did not write (no `format = nn`) are not checked: their tensors
/// are. A file whose fingerprint matches loads whatever network name it
/// records (a renamed struct keeps its files). A file from an older nn
/// without a fingerprint is checked by network name.
pub fn check(
    spec: &ModelSpec,
    metadata: Option<&HashMap<String, String>>,
    origin: &str,
) -> Result<(), NnError> {
    let Some(meta) = metadata else {
        return Ok(());
    };
    if meta.get(FORMAT).map(String::as_str) != Some("nn") {
        return Ok(());
    }
    let writer = meta.get(MODEL).map(String::as_str).unwrap_or("(unnamed)");
    let mismatch = match meta.get(FINGERPRINT) {
        Some(theirs) => {
            let ours = fingerprint(spec);
            (*theirs != ours).then(|| format!("architecture fingerprint {theirs}, this network's is {ours}"))
        }
        None => (writer != spec.name).then(|| "no architecture fingerprint (older nn)".to_string()),
    };
    match mismatch {
        None => Ok(()),
        Some(why) => Err(NnError::WeightMismatch {
            file: origin.to_string(),
            network: spec.name,
            problems: vec![format!(
                "written by network `{writer}` ({why}): its weights belong to a different \
                 architecture. Load the file into `{writer}`, or, if the tensors are meant for \
                 this network, use `load_weights_any_writer`, which checks only names and shapes"
            )],
        }),
    }
}
