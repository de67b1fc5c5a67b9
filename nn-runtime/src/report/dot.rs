//! Graphviz DOT of a network's layer graph, like Keras's
//! `plot_model(show_shapes=True)`.

use crate::spec::ModelSpec;
use crate::summary::shape_text;

/// Graphviz DOT of the layer graph with types and output shapes, like Keras's
/// `plot_model(show_shapes=True)`.
pub fn dot(spec: &ModelSpec) -> String {
    let mut out = format!("digraph \"{}\" {{\n", spec.name);
    out.push_str("  rankdir=TB;\n  node [shape=record, fontname=\"Helvetica\", fontsize=10];\n");
    for layer in spec.layers {
        let detail = if layer.detail.is_empty() {
            String::new()
        } else {
            format!("\\n{}", layer.detail.replace('"', "'"))
        };
        out.push_str(&format!(
            "  \"{name}\" [label=\"{{{name}: {kind}{detail}|output: {shape}}}\"];\n",
            name = layer.name,
            kind = layer.kind,
            shape = shape_text(layer.output_shape),
        ));
    }
    for layer in spec.layers {
        for inbound in layer.connected_to {
            let source = inbound.split('[').next().unwrap_or(inbound);
            out.push_str(&format!("  \"{source}\" -> \"{}\";\n", layer.name));
        }
    }
    out.push_str("}\n");
    out
}
