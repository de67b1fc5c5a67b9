//! The structured part of the emitted `ModelSpec`: each layer's typed
//! configuration (`nn::runtime::LayerConfig`), the weights it owns, and the
//! node graph. The runtime reads these to export ONNX, import Keras weights
//! and fingerprint weight files, so nothing there re-parses display text.

use nn_vocab::{LayerConfig, ToRust};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::graph::{Graph, Layer};
use crate::plan::Plan;

fn lit(v: usize) -> Literal {
    Literal::usize_unsuffixed(v)
}

/// Where generated code reaches the vocabulary crate.
pub const VOCAB: &str = "::nn::__private::vocab";

/// A vocabulary value (a layer's configuration, an activation, ...) as an
/// expression of its type, written by the vocabulary itself.
pub fn vocab_tokens(value: &dyn ToRust) -> TokenStream {
    let source = value.to_rust(VOCAB);
    source.parse().unwrap_or_else(|_| {
        let message = format!("network!: could not emit `{source}` (an internal error; please report it)");
        quote!(::core::compile_error!(#message))
    })
}

/// `::nn::__private::vocab::LayerConfig::...` for one layer's configuration.
pub fn layer_config(config: &LayerConfig) -> TokenStream {
    vocab_tokens(config)
}

/// `&[i, j]`: indices into the spec's parameter list of this layer's
/// weights, found by their exact keys.
pub fn layer_weights(layer: &Layer, plan: &Plan) -> TokenStream {
    let indices = layer.config.weight_names().into_iter().filter_map(|w| {
        let key = format!("{}.{w}", layer.name);
        plan.params.iter().position(|p| p.key == key).map(lit)
    });
    quote!(&[#(#indices),*])
}

/// `&[NodeSpec { .. }, ..]`: every node with its layer, inputs and shape.
pub fn nodes(graph: &Graph) -> TokenStream {
    let nodes = graph.nodes.iter().map(|node| {
        let layer = lit(node.layer);
        let inputs = node.inputs.iter().map(|&i| lit(i));
        let dims = node.shape.iter().map(|&d| lit(d));
        quote!(::nn::__private::NodeSpec { layer: #layer, inputs: &[#(#inputs),*], shape: &[#(#dims),*] })
    });
    quote!(&[#(#nodes),*])
}

/// `&[NestedSpec { .. }, ..]`: each network used as a layer as its summary
/// row: its output, its parameters in total, the tensors of every call.
pub fn nested(graph: &Graph) -> TokenStream {
    let rows = graph.nested.iter().enumerate().map(|(k, row)| {
        let (name, kind) = (&row.name, &row.class);
        let layers: Vec<usize> = (0..graph.layers.len())
            .filter(|&l| graph.layers[l].within == Some(k))
            .collect();
        let params: usize = layers
            .iter()
            .map(|&l| {
                let layer = &graph.layers[l];
                let (t, s) =
                    crate::shape::param_counts(&layer.config, layer.input_shape.as_deref().unwrap_or(&[]));
                t + s
            })
            .sum();
        let params = lit(params);
        let shape = row
            .calls
            .first()
            .map(|(_, out)| graph.nodes[*out].shape.clone())
            .unwrap_or_default();
        let dims = shape.iter().map(|&d| lit(d));
        let connected: Vec<String> = row
            .calls
            .iter()
            .flat_map(|(args, _)| args.iter().map(|&a| graph.tensor_ref(a)))
            .collect();
        let layers = layers.into_iter().map(lit);
        quote!(::nn::__private::NestedSpec {
            name: #name, kind: #kind, output_shape: &[#(#dims),*], params: #params,
            connected_to: &[#(#connected),*], layers: &[#(#layers),*],
        })
    });
    quote!(&[#(#rows),*])
}
