//! A short, stable fingerprint of a network's architecture, written into
//! weight files so that loading a file written by a different network is
//! caught even when every tensor name and shape matches.
//!
//! The fingerprint covers everything that gives the weights their meaning:
//! inputs and outputs (names, shapes), every layer (name, kind, full
//! configuration), the graph (which node reads which) and every weight
//! tensor (key, shape). It does not cover the network's Rust name, so
//! renaming the struct keeps old files loadable, nor which layers are
//! frozen (`trainable = false`), so fine-tuning loads the trained file.

use std::fmt::Write;

use crate::spec::ModelSpec;

/// The canonical text the fingerprint is taken of, one line per item.
pub fn architecture_text(spec: &ModelSpec) -> String {
    let mut text = String::new();
    for input in spec.inputs {
        let _ = writeln!(text, "input {} {:?} node {}", input.name, input.shape, input.node);
    }
    for layer in spec.layers {
        let _ = writeln!(text, "layer {} {:?}", layer.name, layer.config);
    }
    for node in spec.nodes {
        let _ = writeln!(
            text,
            "node layer {} inputs {:?} shape {:?}",
            node.layer, node.inputs, node.shape
        );
    }
    for p in spec.params {
        // A frozen weight is still a trainable kind of weight: freezing a
        // layer must not make the file of the unfrozen network unloadable.
        let trainable_kind = p.trainable || p.frozen;
        let _ = writeln!(
            text,
            "weight {} {:?} trainable {}",
            p.key, p.shape, trainable_kind
        );
    }
    for output in spec.outputs {
        let _ = writeln!(
            text,
            "output {} {:?} node {}",
            output.name, output.shape, output.node
        );
    }
    text
}

/// 64-bit FNV-1a of the architecture text, as 16 hex digits. Not a
/// cryptographic hash: it tells networks apart, it does not authenticate.
pub fn fingerprint(spec: &ModelSpec) -> String {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = architecture_text(spec)
        .bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME));
    format!("{hash:016x}")
}
