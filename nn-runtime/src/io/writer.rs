//! Which network wrote a weight file: its name and architecture fingerprint
//! go into the safetensors metadata on save and are compared on load, so a
//! file written by another network is reported even when every tensor name
//! and shape happens to match.

use std::collections::HashMap;

use crate::fingerprint::fingerprint;
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

/// What is wrong with loading a file with this metadata into `spec`'s
/// network, if anything: it was saved by a network of another name, or by
/// one of this name whose architecture has changed since.
///
/// Files nn did not write (no `format = nn`) are not checked here: their
/// tensors are. A file from an older nn without a fingerprint is checked by
/// network name only.
pub fn problem(spec: &ModelSpec, metadata: Option<&HashMap<String, String>>) -> Option<String> {
    let meta = metadata?;
    if meta.get(FORMAT).map(String::as_str) != Some("nn") {
        return None;
    }
    let writer = meta.get(MODEL)?;
    let name = spec.name;
    if writer != name {
        return Some(format!(
            "it was saved by network {writer}, not {name}; if {name} is {writer} renamed or rebuilt, \
             load it with `load_weights_of_other_network`"
        ));
    }
    let theirs = meta.get(FINGERPRINT)?;
    let ours = fingerprint(spec);
    (*theirs != ours).then(|| {
        format!(
            "it was saved by a network {name} of another architecture (fingerprint {theirs}, this \
             one's is {ours}): same name, different layers or connections; if the tensors are \
             meant for this one, load it with `load_weights_of_other_network`"
        )
    })
}
