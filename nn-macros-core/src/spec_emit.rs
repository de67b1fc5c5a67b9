//! The structured part of the emitted `ModelSpec`: each layer's typed
//! configuration (`nn::runtime::LayerConfig`), the weights it owns, and the
//! node graph. The runtime reads these to export ONNX, import Keras weights
//! and fingerprint weight files, so nothing there re-parses display text.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::codegen::{act_tokens as activation, init_tokens as initializer, pad_tokens as padding};
use crate::graph::{Graph, Layer};
use crate::layers::{Config, MergeOp, UnaryOp};
use crate::plan::Plan;

fn lit(v: usize) -> Literal {
    Literal::usize_unsuffixed(v)
}

fn pair(p: (usize, usize)) -> TokenStream {
    let (a, b) = (lit(p.0), lit(p.1));
    quote!([#a, #b])
}

/// `::nn::__private::LayerConfig::...` for one layer's parsed configuration.
pub fn layer_config(config: &Config) -> TokenStream {
    let path = quote!(::nn::__private::LayerConfig);
    match config {
        Config::Input => quote!(#path::Input),
        Config::Conv2D {
            filters,
            kernel,
            strides,
            padding: pad,
            activation: act,
            use_bias,
            kernel_init,
        } => {
            let (f, k, s) = (lit(*filters), pair(*kernel), pair(*strides));
            let (p, a, i) = (padding(*pad), activation(*act), initializer(*kernel_init));
            quote!(#path::Conv2D {
                filters: #f, kernel_size: #k, strides: #s, padding: #p, activation: #a,
                use_bias: #use_bias, kernel_initializer: #i,
            })
        }
        Config::Dense {
            units,
            activation: act,
            use_bias,
            kernel_init,
        } => {
            let (u, a, i) = (lit(*units), activation(*act), initializer(*kernel_init));
            quote!(#path::Dense { units: #u, activation: #a, use_bias: #use_bias, kernel_initializer: #i })
        }
        Config::Pool {
            max,
            size,
            strides,
            padding: pad,
        } => {
            let (k, s, p) = (pair(*size), pair(*strides), padding(*pad));
            if *max {
                quote!(#path::MaxPooling2D { pool_size: #k, strides: #s, padding: #p })
            } else {
                quote!(#path::AveragePooling2D { pool_size: #k, strides: #s, padding: #p })
            }
        }
        Config::GlobalAveragePool => quote!(#path::GlobalAveragePooling2D),
        Config::Flatten => quote!(#path::Flatten),
        // `Activation`, `ReLU` and `LeakyReLU` layers differ only in how
        // they are written; the function is the same.
        Config::Activation(act, _) => {
            let a = activation(*act);
            quote!(#path::Activation(#a))
        }
        Config::BatchNorm { momentum, epsilon } => {
            quote!(#path::BatchNormalization { momentum: #momentum, epsilon: #epsilon })
        }
        Config::Dropout { rate } => quote!(#path::Dropout { rate: #rate }),
        Config::Add => quote!(#path::Add),
        Config::Concat => quote!(#path::Concatenate),
        Config::Merge(op) => match op {
            MergeOp::Subtract => quote!(#path::Subtract),
            MergeOp::Multiply => quote!(#path::Multiply),
            MergeOp::Average => quote!(#path::Average),
            MergeOp::Maximum => quote!(#path::Maximum),
            MergeOp::Minimum => quote!(#path::Minimum),
        },
        Config::Unary(op) => match op {
            UnaryOp::Abs => quote!(#path::Abs),
            UnaryOp::Square => quote!(#path::Square),
            UnaryOp::Sqrt => quote!(#path::Sqrt),
        },
        Config::Border {
            crop,
            top,
            bottom,
            left,
            right,
        } => {
            let (t, b, l, r) = (lit(*top), lit(*bottom), lit(*left), lit(*right));
            if *crop {
                quote!(#path::Cropping2D { cropping: [[#t, #b], [#l, #r]] })
            } else {
                quote!(#path::ZeroPadding2D { padding: [[#t, #b], [#l, #r]] })
            }
        }
    }
}

/// The Keras weight names of a layer, in Keras's order; must list the
/// tensors `plan` creates for it.
fn weight_names(config: &Config) -> &'static [&'static str] {
    match config {
        Config::Conv2D { use_bias: true, .. } | Config::Dense { use_bias: true, .. } => &["kernel", "bias"],
        Config::Conv2D { use_bias: false, .. } | Config::Dense { use_bias: false, .. } => &["kernel"],
        Config::BatchNorm { .. } => &["gamma", "beta", "moving_mean", "moving_variance"],
        _ => &[],
    }
}

/// `&[i, j]`: indices into the spec's parameter list of this layer's
/// weights, found by their exact keys.
pub fn layer_weights(layer: &Layer, plan: &Plan) -> TokenStream {
    let indices = weight_names(&layer.config).iter().filter_map(|w| {
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
