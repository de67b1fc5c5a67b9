//! Keras 3 weights in: a model trained in Keras loads into the `network!`
//! that describes the same graph.
//!
//! Keras 3 saves `.weights.h5` files whose tensors live at
//! `layers/<kind>[_<k>]/vars/<i>`: `<kind>` is the layer class in snake case
//! (`conv2d`, `batch_normalization`, `dense`), `k` counts the layers of that
//! class in the model's layer order (none for the first, then `_1`, `_2`,
//! ...), and `i` is the weight's position in `layer.weights`. The path does
//! not depend on the layers' names, so it is matched by graph structure:
//! nn orders its layers as Keras's functional models do (by depth from the
//! outputs, ties by traversal order) and gives the k-th layer of each class
//! the k-th group. Weight files are HDF5; `tools/keras/
//! keras_weights_to_safetensors.py` turns one into a safetensors file with
//! the same paths as keys, which is what this module reads.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use safetensors::SafeTensors;

use crate::model_error::NnError;
use crate::spec::ModelSpec;

/// Layer indices of `spec` in the order Keras 3 lists a functional model's
/// layers (`model.layers`): by decreasing depth, where a node's depth is its
/// longest distance to an output, ties broken by the order a depth-first
/// walk from the outputs (inputs in argument order) first meets each layer.
pub fn keras_layer_order(spec: &ModelSpec) -> Vec<usize> {
    let nodes = spec.nodes;
    // Depth-first walk from the outputs: first-visit order of layers, and
    // nodes in post-order (every node after its inputs).
    let mut layer_visit: Vec<Option<usize>> = vec![None; spec.layers.len()];
    let mut visits = 0;
    let mut finished = vec![false; nodes.len()];
    let mut post_order = Vec::new();
    for port in spec.outputs {
        // Explicit stack of (node, next input to visit).
        let mut stack = vec![(port.node, 0usize)];
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if finished[node] {
                stack.pop();
                continue;
            }
            if *next == 0 && layer_visit[nodes[node].layer].is_none() {
                layer_visit[nodes[node].layer] = Some(visits);
                visits += 1;
            }
            match nodes[node].inputs.get(*next) {
                Some(&input) => {
                    *next += 1;
                    if !finished[input] {
                        stack.push((input, 0));
                    }
                }
                None => {
                    finished[node] = true;
                    post_order.push(node);
                    stack.pop();
                }
            }
        }
    }
    // Depths, from the outputs back; a shared layer takes its deepest node's.
    let mut node_depth: HashMap<usize, usize> = HashMap::new();
    let mut layer_depth: HashMap<usize, usize> = HashMap::new();
    for &node in post_order.iter().rev() {
        let own = node_depth.get(&node).copied().unwrap_or(0);
        let layer = nodes[node].layer;
        let depth = own.max(layer_depth.get(&layer).copied().unwrap_or(0));
        layer_depth.insert(layer, depth);
        node_depth.insert(node, depth);
        for &input in nodes[node].inputs {
            let entry = node_depth.entry(input).or_insert(0);
            *entry = (*entry).max(depth + 1);
        }
    }
    let mut order: Vec<usize> = layer_depth.keys().copied().collect();
    order.sort_by_key(|&l| (std::cmp::Reverse(layer_depth[&l]), layer_visit[l]));
    order
}

/// The Keras 3 group of each of `spec`'s layers that has weights:
/// `(layer index, "layers/conv2d_1")`, in Keras's layer order.
pub fn keras_groups(spec: &ModelSpec) -> Vec<(usize, String)> {
    let mut per_class: HashMap<&str, usize> = HashMap::new();
    let mut groups = Vec::new();
    for layer in keras_layer_order(spec) {
        let config = spec.layers[layer].config;
        if config.weight_names().is_empty() {
            continue;
        }
        let prefix = config.name_prefix();
        let k = per_class.entry(prefix).or_insert(0);
        let group = match *k {
            0 => format!("layers/{prefix}"),
            k => format!("layers/{prefix}_{k}"),
        };
        *k += 1;
        groups.push((layer, group));
    }
    groups
}

/// Reads converted Keras 3 weights (safetensors keyed by HDF5 path) into
/// fresh parameter and state buffers, checking every tensor; every
/// missing, unexpected and mis-shaped one is reported in one error.
pub fn from_bytes(spec: &ModelSpec, bytes: &[u8], origin: &str) -> Result<(Vec<f32>, Vec<f32>), NnError> {
    let invalid = |e: safetensors::SafeTensorError| {
        NnError::invalid_file(
            origin,
            None,
            format!(
                "is not a valid safetensors file ({e}); convert Keras's .weights.h5 with \
                 tools/keras/keras_weights_to_safetensors.py"
            ),
        )
    };
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(invalid)?;
    let file = SafeTensors::deserialize(bytes).map_err(invalid)?;
    let keras_names = header.metadata().clone().unwrap_or_default();
    // nn parameter key → (file key, how messages name it).
    let mut located: HashMap<&str, (String, String)> = HashMap::new();
    for (layer, group) in keras_groups(spec) {
        let layer = &spec.layers[layer];
        let keras_name = keras_names
            .get(&format!("name:{group}"))
            .map(|n| format!(" (Keras layer `{n}`)"))
            .unwrap_or_default();
        for (i, &p) in layer.weights.iter().enumerate() {
            let key = format!("{group}/vars/{i}");
            let nn_key = spec.params[p].key;
            let label = format!("`{key}` for `{nn_key}`{keras_name}");
            located.insert(nn_key, (key, label));
        }
    }
    let expected: HashSet<&str> = located.values().map(|(key, _)| key.as_str()).collect();
    let mut problems = Vec::new();
    let (params, state) = super::weights::fill(spec, &file, |p| located.get(p.key).cloned(), &mut problems);
    let mut unexpected: Vec<&str> = file
        .names()
        .into_iter()
        .filter(|n| !expected.contains(n))
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

/// Reads and checks converted Keras 3 weights in `path`.
pub fn load(spec: &ModelSpec, path: &Path) -> Result<(Vec<f32>, Vec<f32>), NnError> {
    let bytes = super::whole_file::read("read Keras weights from", path)?;
    from_bytes(spec, &bytes, &path.display().to_string())
}
