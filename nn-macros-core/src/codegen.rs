//! Phase 5, code: the network's struct, its `Model` implementation with
//! straight-line forward and backward bodies, and typed convenience methods.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::ast::NetworkDef;
use crate::graph::Graph;
use crate::plan::{plan, Plan, Slot};
use crate::shape::param_counts;
use crate::spec_emit::vocab_tokens;
use nn_vocab::{layer as kind, Activation, ConvAxis, LayerConfig, Padding};

/// Whether `trainable = false` may be given to this layer: a layer kind
/// with weights needs frozen forward and backward code here (weights read
/// from the state buffer, no weight gradient); one without weights takes it
/// as a no-op, as Keras does.
pub fn can_freeze(config: &LayerConfig) -> bool {
    match config {
        LayerConfig::Dense(_) | LayerConfig::BatchNormalization(_) | LayerConfig::LayerNormalization(_) => {
            true
        }
        // The plain convolution skips its kernel gradient when frozen; the
        // rest of the family computes it into scratch and drops it.
        LayerConfig::Conv2D(_)
        | LayerConfig::DepthwiseConv2D(_)
        | LayerConfig::SeparableConv2D(_)
        | LayerConfig::Conv2DTranspose(_)
        | LayerConfig::Conv1D(_) => true,
        // No weights for any input (the input's rank does not matter to
        // whether a kind has weights).
        other => other.weights(&[1, 1, 1]).is_empty(),
    }
}

fn lit(v: usize) -> Literal {
    Literal::usize_unsuffixed(v)
}

/// `n * a..n * b`: a slot's range for the current batch.
fn range(slot: Slot) -> TokenStream {
    let (a, b) = (lit(slot.offset), lit(slot.end()));
    quote!(n * #a..n * #b)
}

/// `n * a + offset..n * b`: from a channel offset inside a slot to its end,
/// the region a convolution writing into a concatenation addresses with a
/// row stride.
fn range_from(slot: Slot, offset: usize) -> TokenStream {
    let (a, b, o) = (lit(slot.offset), lit(slot.end()), lit(offset));
    quote!(n * #a + #o..n * #b)
}

fn act_tokens(act: Activation) -> TokenStream {
    vocab_tokens(&act)
}

/// The `MergeOp` of an element-wise merge layer.
fn merge_op_tokens(config: &LayerConfig) -> TokenStream {
    match config.merge_op() {
        Some(op) => vocab_tokens(&op),
        None => quote!(::core::compile_error!(
            "network!: not an element-wise merge (an internal error)"
        )),
    }
}

/// The `UnaryOp` of an element-wise function layer.
fn unary_op_tokens(config: &LayerConfig) -> TokenStream {
    match config.unary_op() {
        Some(op) => vocab_tokens(&op),
        None => quote!(::core::compile_error!(
            "network!: not an element-wise function (an internal error)"
        )),
    }
}

/// Floats of a SeparableConv2D's pointwise kernel `[1, 1, c * m, filters]`.
fn separable_pointwise_len(c: &kind::SeparableConv2D, input: &[usize]) -> usize {
    input.last().copied().unwrap_or(0) * c.depth_multiplier * c.filters
}

/// A convolution's two axes as tokens. The graph has checked that the
/// kernel fits, so `None` is an internal error.
fn axes_tokens(axes: Option<[ConvAxis; 2]>) -> [TokenStream; 2] {
    match axes {
        Some(axes) => axes.map(|a| vocab_tokens(&a)),
        None => {
            let error = quote!(::core::compile_error!(
                "network!: a convolution's geometry was not checked (an internal error; please report it)"
            ));
            [error.clone(), error]
        }
    }
}

fn window_tokens(input: &[usize], size: [usize; 2], strides: [usize; 2], padding: Padding) -> TokenStream {
    let (h, w) = (lit(input[0]), lit(input[1]));
    let (kh, kw, sh, sw) = (lit(size[0]), lit(size[1]), lit(strides[0]), lit(strides[1]));
    let pad = vocab_tokens(&padding);
    quote!(::nn::__private::Window2d {
        in_h: #h, in_w: #w, kernel_h: #kh, kernel_w: #kw, stride_h: #sh, stride_w: #sw, padding: #pad,
    })
}

/// The constant describing a layer's kernel call, or nothing for layers
/// without one.
fn layer_const(config: &LayerConfig, input: &[usize]) -> TokenStream {
    let last = input.last().copied().unwrap_or(0);
    let (cin, act) = (lit(last), config.activation().map(|a| act_tokens(fused(a))));
    match config {
        LayerConfig::Conv2D(c) if !c.is_plain() => {
            let [rows, cols] = axes_tokens(c.axes(input));
            let (f, g) = (lit(c.filters), lit(c.groups));
            quote!(const L: ::nn::__private::GroupedConv2d = ::nn::__private::GroupedConv2d {
                rows: #rows, cols: #cols, in_channels: #cin, filters: #f, groups: #g, activation: #act,
            };)
        }
        LayerConfig::DepthwiseConv2D(c) => {
            let [rows, cols] = axes_tokens(c.axes(input));
            let m = lit(c.depth_multiplier);
            quote!(const L: ::nn::__private::GroupedConv2d =
                ::nn::__private::GroupedConv2d::depthwise(#rows, #cols, #cin, #m, #act);)
        }
        LayerConfig::SeparableConv2D(c) => {
            let [rows, cols] = axes_tokens(c.axes(input));
            let (m, f) = (lit(c.depth_multiplier), lit(c.filters));
            quote!(const L: ::nn::__private::SeparableConv2d =
                ::nn::__private::SeparableConv2d::new(#rows, #cols, #cin, #m, #f, #act);)
        }
        LayerConfig::Conv2DTranspose(c) => {
            let axes = match input {
                [h, w, _] => c.axes((*h, *w)),
                _ => None,
            };
            let [rows, cols] = axes_tokens(axes);
            let f = lit(c.filters);
            quote!(const L: ::nn::__private::Conv2dTranspose =
                ::nn::__private::Conv2dTranspose::new(#rows, #cols, #cin, #f, #act);)
        }
        LayerConfig::Conv1D(c) => {
            let [steps, _] = axes_tokens(input.first().and_then(|&n| c.axis(n)).map(|a| [a, a]));
            let (f, g) = (lit(c.filters), lit(c.groups));
            quote!(const L: ::nn::__private::GroupedConv2d =
                ::nn::__private::GroupedConv2d::conv1d(#steps, #cin, #f, #g, #act);)
        }
        // One-row 2-D pools over [1, steps, channels].
        LayerConfig::MaxPooling1D(kind::MaxPooling1D {
            pool_size,
            strides,
            padding,
        }) => pool_const(
            &[1, input.first().copied().unwrap_or(0), last],
            quote!(::nn::__private::PoolKind::Max),
            [1, *pool_size],
            [1, *strides],
            *padding,
        ),
        LayerConfig::AveragePooling1D(kind::AveragePooling1D {
            pool_size,
            strides,
            padding,
        }) => pool_const(
            &[1, input.first().copied().unwrap_or(0), last],
            quote!(::nn::__private::PoolKind::Average),
            [1, *pool_size],
            [1, *strides],
            *padding,
        ),
        LayerConfig::GlobalAveragePooling1D(_) => {
            let steps = lit(input.first().copied().unwrap_or(0));
            quote!(const L: ::nn::__private::GlobalAveragePool2d =
                ::nn::__private::GlobalAveragePool2d { h: 1, w: #steps, channels: #cin };)
        }
        LayerConfig::Conv2D(kind::Conv2D {
            filters,
            kernel_size,
            strides,
            padding,
            activation,
            ..
        }) => {
            let window = window_tokens(input, *kernel_size, *strides, *padding);
            let (cin, f, act) = (lit(last), lit(*filters), act_tokens(fused(*activation)));
            quote!(const L: ::nn::__private::Conv2d = ::nn::__private::Conv2d {
                window: #window, in_channels: #cin, filters: #f, activation: #act,
            };)
        }
        LayerConfig::Dense(kind::Dense {
            units, activation, ..
        }) => {
            let (i, u, act) = (lit(last), lit(*units), act_tokens(fused(*activation)));
            quote!(const L: ::nn::__private::Dense = ::nn::__private::Dense { inputs: #i, units: #u, activation: #act };)
        }
        LayerConfig::MaxPooling2D(kind::MaxPooling2D {
            pool_size,
            strides,
            padding,
        }) => pool_const(
            input,
            quote!(::nn::__private::PoolKind::Max),
            *pool_size,
            *strides,
            *padding,
        ),
        LayerConfig::AveragePooling2D(kind::AveragePooling2D {
            pool_size,
            strides,
            padding,
        }) => pool_const(
            input,
            quote!(::nn::__private::PoolKind::Average),
            *pool_size,
            *strides,
            *padding,
        ),
        LayerConfig::GlobalAveragePooling2D(_) => {
            let (h, w, c) = (lit(input[0]), lit(input[1]), lit(last));
            quote!(const L: ::nn::__private::GlobalAveragePool2d =
                ::nn::__private::GlobalAveragePool2d { h: #h, w: #w, channels: #c };)
        }
        LayerConfig::ZeroPadding2D(kind::ZeroPadding2D { padding }) => {
            border_const(input, quote!(::nn::__private::ZeroPadding2d), *padding)
        }
        LayerConfig::Cropping2D(kind::Cropping2D { cropping }) => {
            border_const(input, quote!(::nn::__private::Cropping2d), *cropping)
        }
        LayerConfig::BatchNormalization(kind::BatchNormalization {
            momentum, epsilon, ..
        }) => {
            let c = lit(last);
            quote!(const L: ::nn::__private::BatchNorm =
                ::nn::__private::BatchNorm { channels: #c, momentum: #momentum, epsilon: #epsilon };)
        }
        LayerConfig::Dropout(kind::Dropout { rate }) => {
            quote!(const L: ::nn::__private::Dropout = ::nn::__private::Dropout { rate: #rate };)
        }
        LayerConfig::GlobalMaxPooling2D(_) => {
            let (h, w, c) = (lit(input[0]), lit(input[1]), lit(last));
            quote!(const L: ::nn::__private::GlobalMaxPool2d =
                ::nn::__private::GlobalMaxPool2d { h: #h, w: #w, channels: #c };)
        }
        LayerConfig::UpSampling2D(kind::UpSampling2D { size, interpolation }) => {
            let (h, w, c) = (lit(input[0]), lit(input[1]), lit(last));
            let (sh, sw) = (lit(size[0]), lit(size[1]));
            let interpolation = match interpolation {
                kind::Interpolation::Nearest => quote!(::nn::__private::Interpolation::Nearest),
                kind::Interpolation::Bilinear => quote!(::nn::__private::Interpolation::Bilinear),
            };
            quote!(const L: ::nn::__private::UpSampling2d = ::nn::__private::UpSampling2d {
                in_h: #h, in_w: #w, channels: #c, size_h: #sh, size_w: #sw, interpolation: #interpolation,
            };)
        }
        LayerConfig::Permute(p) => {
            let mut shape = [1usize; kind::MAX_AXES];
            let mut axes = [0usize; kind::MAX_AXES];
            for (s, &d) in shape.iter_mut().zip(input) {
                *s = d;
            }
            for (a, d) in axes.iter_mut().zip(p.axes()) {
                *a = d;
            }
            let (shape, axes, rank) = (shape.map(lit), axes.map(lit), lit(p.rank));
            quote!(const L: ::nn::__private::Permute = ::nn::__private::Permute {
                in_shape: [#(#shape),*], axes: [#(#axes),*], rank: #rank,
            };)
        }
        LayerConfig::LayerNormalization(kind::LayerNormalization { epsilon, .. }) => {
            let w = lit(last);
            quote!(const L: ::nn::__private::LayerNorm =
                ::nn::__private::LayerNorm { width: #w, epsilon: #epsilon };)
        }
        // Layers whose kernels take no description (or that have no kernel).
        LayerConfig::Input(_)
        | LayerConfig::Flatten(_)
        | LayerConfig::Activation(_)
        | LayerConfig::LeakyReLU(_)
        | LayerConfig::ReLU(_)
        | LayerConfig::Add(_)
        | LayerConfig::Concatenate(_)
        | LayerConfig::Subtract(_)
        | LayerConfig::Multiply(_)
        | LayerConfig::Average(_)
        | LayerConfig::Maximum(_)
        | LayerConfig::Minimum(_)
        | LayerConfig::Abs(_)
        | LayerConfig::Square(_)
        | LayerConfig::Sqrt(_)
        | LayerConfig::Reshape(_)
        | LayerConfig::Custom(_)
        | LayerConfig::Identity(_) => TokenStream::new(),
    }
}

/// The activation a dense layer's or convolution's kernel applies: gelu and
/// swish are applied as a step of their own after it, from the
/// pre-activation the layer keeps ([`Plan::pre_activations`]).
fn fused(activation: Activation) -> Activation {
    if activation.derivative_needs_input() {
        Activation::Linear
    } else {
        activation
    }
}

/// `(the weights' buffer range, ..)` of a normalization layer's optional
/// gamma and beta, which `weights` lists in that order from `first`.
fn gamma_beta(
    first: usize,
    channels: usize,
    scale: bool,
    center: bool,
) -> (Option<TokenStream>, Option<TokenStream>) {
    let range = |at: usize| {
        let (a, b) = (lit(at), lit(at + channels));
        quote!(#a..#b)
    };
    let gamma = scale.then(|| range(first));
    let beta = center.then(|| range(first + if scale { channels } else { 0 }));
    (gamma, beta)
}

/// `let dgamma = ..; let dbeta = ..;` as options into the parameter
/// gradients, for the ranges [`gamma_beta`] gave.
fn optional_grads(gamma: &Option<TokenStream>, beta: &Option<TokenStream>) -> (TokenStream, TokenStream) {
    match (gamma, beta) {
        (Some(g), Some(b)) => (
            quote!(let (dgamma, dbeta) = ::nn::__private::arena::two_mut(pgrads, #g, #b)?;),
            quote!(let (dgamma, dbeta) = (::core::option::Option::Some(dgamma), ::core::option::Option::Some(dbeta));),
        ),
        (Some(g), None) => (
            quote!(let dgamma = ::core::option::Option::Some(&mut pgrads[#g]);),
            quote!(let dbeta = ::core::option::Option::None;),
        ),
        (None, Some(b)) => (
            quote!(let dgamma = ::core::option::Option::None;),
            quote!(let dbeta = ::core::option::Option::Some(&mut pgrads[#b]);),
        ),
        (None, None) => (
            quote!(let dgamma = ::core::option::Option::None;),
            quote!(let dbeta = ::core::option::Option::None;),
        ),
    }
}

/// `Some(&buffer[range])` or `None`.
fn optional_slice(buffer: TokenStream, range: &Option<TokenStream>) -> TokenStream {
    match range {
        Some(r) => quote!(::core::option::Option::Some(&#buffer[#r])),
        None => quote!(::core::option::Option::None),
    }
}

fn pool_const(
    input: &[usize],
    kind: TokenStream,
    size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> TokenStream {
    let window = window_tokens(input, size, strides, padding);
    let c = lit(input.last().copied().unwrap_or(0));
    quote!(const L: ::nn::__private::Pool2d = ::nn::__private::Pool2d { kind: #kind, window: #window, channels: #c };)
}

/// `ZeroPadding2d` or `Cropping2d` (`ty`) for `[[top, bottom], [left, right]]`.
fn border_const(
    input: &[usize],
    ty: TokenStream,
    [[top, bottom], [left, right]]: [[usize; 2]; 2],
) -> TokenStream {
    let (h, w, c) = (lit(input[0]), lit(input[1]), lit(input[2]));
    let (t, b, l, r) = (lit(top), lit(bottom), lit(left), lit(right));
    quote!(const L: #ty = #ty {
        in_h: #h, in_w: #w, channels: #c, top: #t, bottom: #b, left: #l, right: #r,
    };)
}

/// Rows of a last-axis layer (dense, batch norm, concat): the batch times
/// every axis but the last.
fn rows_per_sample(shape: &[usize]) -> Literal {
    lit(shape[..shape.len().saturating_sub(1)].iter().product())
}

/// Per-node pieces shared by the forward and backward emitters.
struct Common<'a> {
    node: &'a crate::graph::Node,
    layer: &'a crate::graph::Layer,
    /// Activation ranges of the output and of the first input.
    y: TokenStream,
    x: TokenStream,
    /// The kernel description constant (`const L: ... = ...;`).
    constant: TokenStream,
    input_shape: Vec<usize>,
    lp: crate::plan::LayerParams,
    /// Range bounds of the layer's first parameter tensor.
    first: Literal,
    first_end: Literal,
    /// The buffer holding its weights: `params`, or `state` if frozen.
    weights: TokenStream,
}

struct Emitter<'a> {
    graph: &'a Graph,
    plan: &'a Plan,
}

impl Emitter<'_> {
    fn input_is_network_input(&self, node: usize) -> bool {
        // Follows flatten aliases back to the producer.
        let mut n = node;
        loop {
            let producer = &self.graph.layers[self.graph.nodes[n].layer].config;
            match producer {
                LayerConfig::Input(_) => return true,
                LayerConfig::Flatten(_) | LayerConfig::Reshape(_) | LayerConfig::Identity(_) => {
                    n = self.graph.nodes[n].inputs[0]
                }
                _ => return false,
            }
        }
    }

    /// For a dense layer or convolution that keeps its pre-activation:
    /// where its kernel writes (the pre-activation, else the output) and
    /// the step that applies the activation from it.
    fn pre_activation_forward(&self, i: usize, config: &LayerConfig) -> (TokenStream, TokenStream) {
        let y = range(self.plan.slots[i]);
        match (self.plan.pre_activations[i], config.activation()) {
            (Some(pre), Some(act)) => {
                let z = range(pre);
                let width = lit(*self.graph.nodes[i].shape.last().unwrap_or(&1));
                let act = act_tokens(act);
                let then = quote! {
                    let (z, y) = ::nn::__private::arena::read_write(acts, #z, #y)?;
                    ::nn::__private::activation::forward(#act, z, y, #width)?;
                };
                (z, then)
            }
            _ => (y, TokenStream::new()),
        }
    }

    /// The first backward step of a layer that keeps its pre-activation:
    /// the output gradient becomes the pre-activation's, in place.
    fn pre_activation_backward(&self, i: usize, config: &LayerConfig) -> TokenStream {
        match (self.plan.pre_activations[i], config.activation()) {
            (Some(pre), Some(act)) => {
                let (z, gy) = (range(pre), range(self.plan.grad_slots[i]));
                let width = lit(*self.graph.nodes[i].shape.last().unwrap_or(&1));
                let act = act_tokens(act);
                quote! {
                    ::nn::__private::activation::backward_in_place_from_input(#act, &acts[#z], &mut grads[#gy], #width)?;
                }
            }
            _ => TokenStream::new(),
        }
    }

    /// For an output node whose activation a loss may fuse with: its output
    /// index and that activation.
    fn fusable_output(&self, node: usize) -> Option<(usize, Activation)> {
        let mut positions = self
            .graph
            .outputs
            .iter()
            .enumerate()
            .filter(|(_, p)| p.node == node);
        let (index, _) = positions.next()?;
        if positions.next().is_some() {
            return None;
        }
        if self.graph.nodes.iter().any(|n| n.inputs.contains(&node)) {
            return None;
        }
        let act = self.graph.layers[self.graph.nodes[node].layer]
            .config
            .activation()?;
        (act != Activation::Linear).then_some((index, act))
    }

    /// The batch normalization folded into convolution `conv` (only in the
    /// inference plan; see `inference_plan::batch_norm_folds`).
    fn folded_batch_norm(&self, conv: usize) -> Option<usize> {
        self.graph.nodes.iter().enumerate().find_map(|(n, node)| {
            let is_norm = matches!(
                self.graph.layers[node.layer].config,
                LayerConfig::BatchNormalization(_)
            );
            (is_norm && self.plan.fused_away[n] && node.inputs == [conv]).then_some(n)
        })
    }

    /// Convolution `conv` writing the output of the inference batch
    /// normalization `norm` folded into it.
    fn conv_batch_norm_forward(&self, conv: usize, norm: usize, bias: TokenStream) -> TokenStream {
        let Common {
            x,
            first,
            first_end,
            weights,
            ..
        } = self.common(conv);
        let norm_node = &self.graph.nodes[norm];
        let layer = &self.graph.layers[norm_node.layer];
        let LayerConfig::BatchNormalization(kind::BatchNormalization { center, scale, .. }) = &layer.config
        else {
            return TokenStream::new();
        };
        let shape = &self.graph.nodes[conv].shape;
        let c = *shape.last().unwrap_or(&0);
        let lp = self.plan.layer_params[norm_node.layer];
        let (s0, s2, cl) = (lit(lp.state), lit(lp.state + 2 * c), lit(c));
        let (gamma, beta) = gamma_beta(lp.first, c, *scale, *center);
        let (gamma, beta) = (
            optional_slice(quote!(params), &gamma),
            optional_slice(quote!(params), &beta),
        );
        let norm_const = layer_const(&layer.config, shape);
        let y = range(self.plan.slots[norm]);
        quote! {
            // The batch normalization after this convolution, folded into it.
            let norm: ::nn::__private::BatchNorm = { #norm_const L };
            let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
            let (moving_mean, moving_variance) = state[#s0..#s2].split_at_mut(#cl);
            let p = ::nn::__private::BatchNormParams {
                gamma: #gamma,
                beta: #beta,
                moving_mean,
                moving_variance,
            };
            L.forward_batch_norm(n, x, &#weights[#first..#first_end], #bias, &norm, p, y, ws)?;
        }
    }

    /// The inputs of concatenation `node` that are copied (not written in
    /// place by a convolution): (input node, channel offset, channels).
    fn copied_concat_inputs(&self, node: usize) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let mut offset = 0;
        self.graph.nodes[node].inputs.iter().filter_map(move |&input| {
            let channels = *self.graph.nodes[input].shape.last().unwrap_or(&0);
            let at = offset;
            offset += channels;
            self.plan.into_concat[input]
                .is_none()
                .then_some((input, at, channels))
        })
    }

    /// What forward and backward code of node `i` both start from.
    fn common(&self, i: usize) -> Common<'_> {
        let node = &self.graph.nodes[i];
        let layer = &self.graph.layers[node.layer];
        let first_input = node.inputs.first().copied();
        let input_shape = first_input
            .map(|x| self.graph.nodes[x].shape.clone())
            .unwrap_or_default();
        let lp = self.plan.layer_params[node.layer];
        Common {
            node,
            layer,
            y: range(self.plan.slots[i]),
            x: first_input.map(|x| range(self.plan.slots[x])).unwrap_or_default(),
            constant: layer_const(&layer.config, &input_shape),
            input_shape,
            lp,
            first: lit(lp.first),
            first_end: lit(lp.first + lp.first_len),
            weights: if lp.frozen { quote!(state) } else { quote!(params) },
        }
    }

    fn forward(&self, i: usize) -> TokenStream {
        let Common {
            node,
            layer,
            y,
            x,
            constant,
            input_shape,
            lp,
            first,
            first_end,
            weights,
        } = self.common(i);
        let comment = format!("{} ({})", layer.name, layer.config.class());
        if self.plan.fused_away[i] {
            // Computed by the convolution that absorbed it.
            return TokenStream::new();
        }
        // `Some(&weights[..])` for a bias of `len` after `from`, or `None`.
        let bias_after = |from: usize, len: usize, use_bias: bool| {
            let (a, b) = (lit(from), lit(from + len));
            if use_bias {
                quote!(::core::option::Option::Some(&#weights[#a..#b]))
            } else {
                quote!(::core::option::Option::None)
            }
        };
        let kernel_bias_forward = |use_bias: bool, outputs: usize| {
            let bias = bias_after(lp.first + lp.first_len, outputs, use_bias);
            let (z, then) = self.pre_activation_forward(i, &layer.config);
            quote! {
                let (x, y) = ::nn::__private::arena::read_write(acts, #x, #z)?;
                L.forward(n, x, &#weights[#first..#first_end], #bias, y, ws)?;
                #then
            }
        };
        let body = match &layer.config {
            LayerConfig::Input(_)
            | LayerConfig::Flatten(_)
            | LayerConfig::Reshape(_)
            | LayerConfig::Identity(_) => return TokenStream::new(),
            LayerConfig::Conv2D(c) if !c.is_plain() => kernel_bias_forward(c.use_bias, c.filters),
            LayerConfig::DepthwiseConv2D(c) => {
                kernel_bias_forward(c.use_bias, input_shape.last().unwrap_or(&0) * c.depth_multiplier)
            }
            LayerConfig::Conv2DTranspose(c) => kernel_bias_forward(c.use_bias, c.filters),
            LayerConfig::Conv1D(c) => kernel_bias_forward(c.use_bias, c.filters),
            LayerConfig::SeparableConv2D(c) => {
                let pointwise_end = lp.first + lp.first_len + separable_pointwise_len(c, &input_shape);
                let pe = lit(pointwise_end);
                let bias = bias_after(pointwise_end, c.filters, c.use_bias);
                let (z, then) = self.pre_activation_forward(i, &layer.config);
                quote! {
                    let (x, y) = ::nn::__private::arena::read_write(acts, #x, #z)?;
                    L.forward(n, x, &#weights[#first..#first_end], &#weights[#first_end..#pe], #bias, y, ws)?;
                    #then
                }
            }
            LayerConfig::Conv2D(kind::Conv2D {
                use_bias, filters, ..
            }) => {
                let bias_end = lit(lp.first + lp.first_len + filters);
                let bias = if *use_bias {
                    quote!(::core::option::Option::Some(&#weights[#first_end..#bias_end]))
                } else {
                    quote!(::core::option::Option::None)
                };
                match self.plan.fusions[i] {
                    Some(fusion) => {
                        let residual = range(self.plan.slots[fusion.residual]);
                        let act = match fusion
                            .activation
                            .map(|r| &self.graph.layers[self.graph.nodes[r].layer].config)
                        {
                            Some(config) => act_tokens(config.activation().unwrap_or(Activation::Linear)),
                            None => act_tokens(Activation::Linear),
                        };
                        quote! {
                            // Fused: activation(conv + bias + residual) in one pass.
                            let ([x, residual], y) = ::nn::__private::arena::reads_write(acts, [#x, #residual], #y)?;
                            L.forward_fused(n, x, &#weights[#first..#first_end], #bias, ::core::option::Option::Some(residual), #act, y, ws)?;
                        }
                    }
                    None => match (self.plan.into_concat[i], self.folded_batch_norm(i)) {
                        (None, Some(norm)) => self.conv_batch_norm_forward(i, norm, bias),
                        (Some(into), _) => {
                            let region = range_from(self.plan.slots[i], into.channel_offset);
                            let total = lit(*self.graph.nodes[into.concat].shape.last().unwrap_or(&0));
                            quote! {
                                // Written straight into its channels of the concatenation.
                                let (x, y) = ::nn::__private::arena::two_mut(acts, #x, #region)?;
                                L.forward_into(n, x, &#weights[#first..#first_end], #bias, ::core::option::Option::None, L.activation, y, #total, ws)?;
                            }
                        }
                        (None, None) => {
                            let (z, then) = self.pre_activation_forward(i, &layer.config);
                            quote! {
                                let (x, y) = ::nn::__private::arena::read_write(acts, #x, #z)?;
                                L.forward(n, x, &#weights[#first..#first_end], #bias, y, ws)?;
                                #then
                            }
                        }
                    },
                }
            }
            LayerConfig::Dense(kind::Dense { use_bias, units, .. }) => {
                let bias_end = lit(lp.first + lp.first_len + units);
                let bias = if *use_bias {
                    quote!(::core::option::Option::Some(&#weights[#first_end..#bias_end]))
                } else {
                    quote!(::core::option::Option::None)
                };
                let rows = rows_per_sample(&input_shape);
                let (z, then) = self.pre_activation_forward(i, &layer.config);
                quote! {
                    let (x, y) = ::nn::__private::arena::read_write(acts, #x, #z)?;
                    L.forward(n * #rows, x, &#weights[#first..#first_end], #bias, y, ws)?;
                    #then
                }
            }
            LayerConfig::Permute(_) => quote! {
                let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                L.forward(n, x, y)?;
            },
            LayerConfig::LayerNormalization(kind::LayerNormalization { center, scale, .. }) => {
                let rows = rows_per_sample(&input_shape);
                let width = *input_shape.last().unwrap_or(&0);
                let (gamma, beta) = gamma_beta(lp.first, width, *scale, *center);
                let (gamma, beta) = (
                    optional_slice(weights.clone(), &gamma),
                    optional_slice(weights, &beta),
                );
                quote! {
                    let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                    L.forward(n * #rows, x, #gamma, #beta, y)?;
                }
            }
            LayerConfig::MaxPooling2D(_)
            | LayerConfig::AveragePooling2D(_)
            | LayerConfig::GlobalAveragePooling2D(_)
            | LayerConfig::GlobalMaxPooling2D(_)
            | LayerConfig::UpSampling2D(_)
            | LayerConfig::MaxPooling1D(_)
            | LayerConfig::AveragePooling1D(_)
            | LayerConfig::GlobalAveragePooling1D(_)
            | LayerConfig::ZeroPadding2D(_)
            | LayerConfig::Cropping2D(_) => quote! {
                let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                L.forward(n, x, y)?;
            },
            LayerConfig::Activation(_) | LayerConfig::LeakyReLU(_) | LayerConfig::ReLU(_) => {
                // Every activation layer has its function.
                let act = act_tokens(layer.config.activation().unwrap_or(Activation::Linear));
                let width = lit(*input_shape.last().unwrap_or(&1));
                if self.plan.in_place[i] {
                    quote! {
                        ::nn::__private::activation::forward_in_place(#act, &mut acts[#y], #width)?;
                    }
                } else {
                    quote! {
                        let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                        ::nn::__private::activation::forward(#act, x, y, #width)?;
                    }
                }
            }
            LayerConfig::BatchNormalization(kind::BatchNormalization { center, scale, .. }) => {
                let rows = rows_per_sample(&input_shape);
                let c = *input_shape.last().unwrap_or(&0);
                let (s0, s2) = (lit(lp.state), lit(lp.state + 2 * c));
                let saved = self.plan.saved[i].unwrap_or(0);
                let (v0, v1) = (lit(saved), lit(saved + 2 * c));
                let cl = lit(c);
                let (gamma, beta) = gamma_beta(lp.first, c, *scale, *center);
                if lp.frozen {
                    // As Keras 3: a frozen batch normalization runs in
                    // inference mode, also in training, and its moving
                    // statistics stay. Its gamma and beta precede them.
                    let (gamma, beta) = (
                        optional_slice(quote!(vectors), &gamma),
                        optional_slice(quote!(vectors), &beta),
                    );
                    return self.wrap(
                        comment,
                        constant,
                        quote! {
                            let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                            let (vectors, statistics) = state[..#s2].split_at_mut(#s0);
                            let (moving_mean, moving_variance) = statistics.split_at_mut(#cl);
                            let p = ::nn::__private::BatchNormParams {
                                gamma: #gamma,
                                beta: #beta,
                                moving_mean,
                                moving_variance,
                            };
                            L.forward_infer(n * #rows, x, p, y)?;
                        },
                    );
                }
                let (gamma, beta) = (
                    optional_slice(quote!(params), &gamma),
                    optional_slice(quote!(params), &beta),
                );
                quote! {
                    let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                    let (moving_mean, moving_variance) = state[#s0..#s2].split_at_mut(#cl);
                    let p = ::nn::__private::BatchNormParams {
                        gamma: #gamma,
                        beta: #beta,
                        moving_mean,
                        moving_variance,
                    };
                    if train {
                        L.forward_train(n * #rows, x, p, y, &mut saved[#v0..#v1])?;
                    } else {
                        L.forward_infer(n * #rows, x, p, y)?;
                    }
                }
            }
            LayerConfig::Dropout(_) => {
                let slot = self.plan.slots[i];
                let mask = self.plan.masks[i].unwrap_or(slot);
                let both = range(Slot {
                    offset: slot.offset,
                    len: mask.end() - slot.offset,
                });
                let len = lit(slot.len);
                quote! {
                    let (x, rest) = ::nn::__private::arena::read_write(acts, #x, #both)?;
                    let (y, mask) = rest.split_at_mut(n * #len);
                    if train {
                        L.forward_train(x, y, mask, rng)?;
                    } else {
                        L.forward_infer(x, y)?;
                    }
                }
            }
            LayerConfig::Add(_) => {
                let reads = node.inputs.iter().map(|&x| range(self.plan.slots[x]));
                quote! {
                    let (xs, y) = ::nn::__private::arena::reads_write(acts, [#(#reads),*], #y)?;
                    ::nn::__private::merge::add_forward(&xs, y)?;
                }
            }
            LayerConfig::Subtract(_)
            | LayerConfig::Multiply(_)
            | LayerConfig::Average(_)
            | LayerConfig::Maximum(_)
            | LayerConfig::Minimum(_) => {
                let reads = node.inputs.iter().map(|&x| range(self.plan.slots[x]));
                let op = merge_op_tokens(&layer.config);
                quote! {
                    let (xs, y) = ::nn::__private::arena::reads_write(acts, [#(#reads),*], #y)?;
                    ::nn::__private::elementwise_merge::forward(#op, &xs, y)?;
                }
            }
            LayerConfig::Custom(c) => {
                let (index, lname) = (lit(c.index), &layer.name);
                let weights = custom_weight_ranges(c, lp.first)
                    .into_iter()
                    .map(|(a, b)| (lit(a), lit(b)))
                    .map(|(a, b)| quote!(&params[#a..#b]));
                quote! {
                    let layer = custom_layers.get(<Self as ::nn::__private::Model>::SPEC.name, #lname, #index)?;
                    let weights: &[&[::core::primitive::f32]] = &[#(#weights),*];
                    let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                    layer.forward(n, x, weights, y);
                }
            }
            LayerConfig::Abs(_) | LayerConfig::Square(_) | LayerConfig::Sqrt(_) => {
                let op = unary_op_tokens(&layer.config);
                quote! {
                    let (x, y) = ::nn::__private::arena::read_write(acts, #x, #y)?;
                    ::nn::__private::elementwise_unary::forward(#op, x, y)?;
                }
            }
            LayerConfig::Concatenate(_) => {
                // Copy each input that no convolution wrote in place.
                let rows = rows_per_sample(&input_shape);
                let total = lit(*node.shape.last().unwrap_or(&0));
                let parts: Vec<TokenStream> = self
                    .copied_concat_inputs(i)
                    .map(|(x, offset, channels)| {
                        let r = range(self.plan.slots[x]);
                        let (off, cl) = (lit(offset), lit(channels));
                        quote! {
                            let (x, y) = ::nn::__private::arena::two_mut(acts, #r, #y)?;
                            ::nn::__private::merge::concat_forward_part(n * #rows, #total, #off, #cl, x, y)?;
                        }
                    })
                    .collect();
                quote!(#({ #parts })*)
            }
        };
        if body.is_empty() {
            // Nothing left to do here (all computed by fused neighbours).
            return TokenStream::new();
        }
        self.wrap(comment, constant, body)
    }

    /// One layer's forward code as a block, with its kernel constant.
    fn wrap(&self, comment: String, constant: TokenStream, body: TokenStream) -> TokenStream {
        quote! {
            {
                #[doc = #comment]
                #constant
                #body
            }
        }
    }

    fn backward(&self, i: usize) -> TokenStream {
        let Common {
            node,
            layer,
            y,
            x,
            constant,
            input_shape,
            lp,
            first,
            first_end,
            weights,
        } = self.common(i);
        let y_slot = self.plan.slots[i];
        let comment = format!("{} ({}) backward", layer.name, layer.config.class());
        let gy = range(self.plan.grad_slots[i]);
        let gx = node
            .inputs
            .first()
            .map(|&x| range(self.plan.grad_slots[x]))
            .unwrap_or_default();
        let zero: Vec<TokenStream> = self.plan.zero_before[i]
            .iter()
            .map(|&slot| {
                let r = range(slot);
                quote!(::nn::__private::arena::zero(&mut grads[#r]);)
            })
            .collect();
        let need_dx = if node
            .inputs
            .first()
            .is_some_and(|&x| self.input_is_network_input(x))
        {
            quote!(want_input_grads)
        } else {
            quote!(true)
        };
        // Whether a fused loss already produced this output's
        // pre-activation gradient (then `linear`, the layer without its
        // activation, runs backward instead of `L`).
        let choose = |linear: TokenStream| match self.fusable_output(i) {
            Some((k, _)) => {
                let k = lit(k);
                quote! {
                    let l = if skip_activation.get(#k).copied().unwrap_or(false) { #linear } else { L };
                }
            }
            None => quote!(let l = L;),
        };
        // A frozen convolution of this family has no backward pass without
        // its weight gradients: they go to scratch and are dropped.
        let weight_grads = |len: usize| {
            if lp.frozen {
                let len = lit(len);
                quote!(let mut frozen_weight_grads = ::std::vec![0.0f32; #len]; let weight_grads = &mut frozen_weight_grads[..];)
            } else {
                let (a, b) = (lit(lp.first), lit(lp.first + len));
                quote!(let weight_grads = &mut pgrads[#a..#b];)
            }
        };
        let kernel_bias_backward = |use_bias: bool, outputs: usize, linear: TokenStream| {
            let grads = weight_grads(lp.first_len + if use_bias { outputs } else { 0 });
            let klen = lit(lp.first_len);
            let (split, db) = if use_bias {
                (
                    quote!(#grads let (dk, db) = weight_grads.split_at_mut(#klen);),
                    quote!(::core::option::Option::Some(db)),
                )
            } else {
                (
                    quote!(#grads let dk = weight_grads;),
                    quote!(::core::option::Option::None),
                )
            };
            let choose = choose(linear);
            let pre = self.pre_activation_backward(i, &layer.config);
            quote! {
                #pre
                let x = &acts[#x];
                let y = &acts[#y];
                let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                let dx = if #need_dx { ::core::option::Option::Some(dx) } else { ::core::option::Option::None };
                #split
                #choose
                l.backward(n, x, &#weights[#first..#first_end], y, dy, dk, #db, dx, ws)?;
            }
        };
        let linear_grouped = quote!(::nn::__private::GroupedConv2d {
            activation: ::nn::__private::Activation::Linear,
            ..L
        });
        let body = match &layer.config {
            LayerConfig::Input(_)
            | LayerConfig::Flatten(_)
            | LayerConfig::Reshape(_)
            | LayerConfig::Identity(_) => return TokenStream::new(),
            LayerConfig::Conv2D(c) if !c.is_plain() => {
                kernel_bias_backward(c.use_bias, c.filters, linear_grouped)
            }
            LayerConfig::DepthwiseConv2D(c) => kernel_bias_backward(
                c.use_bias,
                input_shape.last().unwrap_or(&0) * c.depth_multiplier,
                linear_grouped,
            ),
            LayerConfig::Conv1D(c) => kernel_bias_backward(c.use_bias, c.filters, linear_grouped),
            LayerConfig::Conv2DTranspose(c) => kernel_bias_backward(
                c.use_bias,
                c.filters,
                quote!(::nn::__private::Conv2dTranspose {
                    activation: ::nn::__private::Activation::Linear,
                    ..L
                }),
            ),
            LayerConfig::SeparableConv2D(c) => {
                let pointwise_len = separable_pointwise_len(c, &input_shape);
                let (klen, plen) = (lit(lp.first_len), lit(pointwise_len));
                let grads =
                    weight_grads(lp.first_len + pointwise_len + if c.use_bias { c.filters } else { 0 });
                let pe = lit(lp.first + lp.first_len + pointwise_len);
                let (split, db) = if c.use_bias {
                    (
                        quote! {
                            #grads
                            let (dk, rest) = weight_grads.split_at_mut(#klen);
                            let (dp, db) = rest.split_at_mut(#plen);
                        },
                        quote!(::core::option::Option::Some(db)),
                    )
                } else {
                    (
                        quote!(#grads let (dk, dp) = weight_grads.split_at_mut(#klen);),
                        quote!(::core::option::Option::None),
                    )
                };
                let choose = choose(quote!(::nn::__private::SeparableConv2d {
                    pointwise: ::nn::__private::GroupedConv2d {
                        activation: ::nn::__private::Activation::Linear,
                        ..L.pointwise
                    },
                    ..L
                }));
                let pre = self.pre_activation_backward(i, &layer.config);
                quote! {
                    #pre
                    let x = &acts[#x];
                    let y = &acts[#y];
                    let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                    let dx = if #need_dx { ::core::option::Option::Some(dx) } else { ::core::option::Option::None };
                    #split
                    #choose
                    l.backward(n, x, &#weights[#first..#first_end], &#weights[#first_end..#pe], y, dy, dk, dp, #db, dx, ws)?;
                }
            }
            LayerConfig::Conv2D(kind::Conv2D {
                use_bias, filters, ..
            })
            | LayerConfig::Dense(kind::Dense {
                use_bias,
                units: filters,
                ..
            }) => {
                let is_conv = matches!(layer.config, LayerConfig::Conv2D(_));
                let param_end = lit(lp.first + lp.first_len + if *use_bias { *filters } else { 0 });
                let klen = lit(lp.first_len);
                let (split, db) = if *use_bias {
                    (
                        quote!(let (dk, db) = pgrads[#first..#param_end].split_at_mut(#klen);),
                        quote!(::core::option::Option::Some(db)),
                    )
                } else {
                    (
                        quote!(let dk = &mut pgrads[#first..#param_end];),
                        quote!(::core::option::Option::None),
                    )
                };
                // A frozen layer passes the gradient through to its input
                // and skips its own weight gradient.
                let split = if lp.frozen { TokenStream::new() } else { split };
                let rows = rows_per_sample(&input_shape);
                let width = lit(*filters);
                let call = match (is_conv, lp.frozen) {
                    (true, false) => {
                        quote!(l.backward(n, x, &params[#first..#first_end], y, dy, dk, #db, dx, ws)?;)
                    }
                    (false, false) => {
                        quote!(l.backward(n * #rows, x, &params[#first..#first_end], y, dy, dk, #db, dx, ws)?;)
                    }
                    (true, true) => {
                        quote!(l.backward_input_from(n, x, &state[#first..#first_end], y, dy, #width, dx, ws)?;)
                    }
                    (false, true) => {
                        quote!(l.backward_input(n * #rows, &state[#first..#first_end], y, dy, dx, ws)?;)
                    }
                };
                let choose = match self.fusable_output(i) {
                    Some((k, _)) => {
                        let k = lit(k);
                        let ty = if is_conv {
                            quote!(::nn::__private::Conv2d)
                        } else {
                            quote!(::nn::__private::Dense)
                        };
                        quote! {
                            let l = if skip_activation.get(#k).copied().unwrap_or(false) {
                                #ty { activation: ::nn::__private::Activation::Linear, ..L }
                            } else {
                                L
                            };
                        }
                    }
                    None => quote!(let l = L;),
                };
                match self.plan.into_concat[i] {
                    Some(into) => {
                        let region = range_from(self.plan.slots[i], into.channel_offset);
                        let grad_region = range_from(self.plan.grad_slots[i], into.channel_offset);
                        let total = lit(*self.graph.nodes[into.concat].shape.last().unwrap_or(&0));
                        let concat_call = if lp.frozen {
                            quote!(L.backward_input_from(n, x, &#weights[#first..#first_end], y, dy, #total, dx, ws)?;)
                        } else {
                            quote!(L.backward_from(n, x, &#weights[#first..#first_end], y, dy, #total, dk, #db, dx, ws)?;)
                        };
                        quote! {
                            // Output and gradient are its channels of the concatenation.
                            let x = &acts[#x];
                            let y = &acts[#region];
                            let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #grad_region)?;
                            let dx = if #need_dx { ::core::option::Option::Some(dx) } else { ::core::option::Option::None };
                            #split
                            #concat_call
                        }
                    }
                    None => {
                        let pre = self.pre_activation_backward(i, &layer.config);
                        quote! {
                            #pre
                            let x = &acts[#x];
                            let y = &acts[#y];
                            let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                            let dx = if #need_dx { ::core::option::Option::Some(dx) } else { ::core::option::Option::None };
                            #split
                            #choose
                            #call
                        }
                    }
                }
            }
            LayerConfig::MaxPooling2D(_)
            | LayerConfig::AveragePooling2D(_)
            | LayerConfig::GlobalMaxPooling2D(_)
            | LayerConfig::MaxPooling1D(_)
            | LayerConfig::AveragePooling1D(_) => quote! {
                let x = &acts[#x];
                let y = &acts[#y];
                let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                L.backward(n, x, y, dy, dx)?;
            },
            LayerConfig::LayerNormalization(kind::LayerNormalization { center, scale, .. }) => {
                let rows = rows_per_sample(&input_shape);
                let width = *input_shape.last().unwrap_or(&0);
                let (gamma_at, beta_at) = gamma_beta(lp.first, width, *scale, *center);
                let gamma = optional_slice(weights, &gamma_at);
                let (dgamma, dbeta) = if lp.frozen {
                    optional_grads(&None, &None)
                } else {
                    optional_grads(&gamma_at, &beta_at)
                };
                quote! {
                    let x = &acts[#x];
                    let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                    let dx = if #need_dx { ::core::option::Option::Some(dx) } else { ::core::option::Option::None };
                    #dgamma
                    #dbeta
                    let g = ::nn::__private::LayerNormGrads { dgamma, dbeta, dx };
                    L.backward(n * #rows, x, #gamma, dy, g)?;
                }
            }
            LayerConfig::GlobalAveragePooling2D(_)
            | LayerConfig::UpSampling2D(_)
            | LayerConfig::Permute(_)
            | LayerConfig::GlobalAveragePooling1D(_)
            | LayerConfig::ZeroPadding2D(_)
            | LayerConfig::Cropping2D(_) => quote! {
                let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                L.backward(n, dy, dx)?;
            },
            LayerConfig::Activation(_) | LayerConfig::LeakyReLU(_) | LayerConfig::ReLU(_) => {
                // Every activation layer has its function.
                let function = layer.config.activation().unwrap_or(Activation::Linear);
                let needs_input = function.derivative_needs_input();
                let act = act_tokens(function);
                let width = lit(*input_shape.last().unwrap_or(&1));
                let skip = match self.fusable_output(i) {
                    Some((k, _)) => {
                        let k = lit(k);
                        quote!(skip_activation.get(#k).copied().unwrap_or(false))
                    }
                    None => quote!(false),
                };
                if self.plan.in_place[i] {
                    // Input and output share one gradient region: turn the
                    // output gradient into the input's where it lies.
                    quote! {
                        if !#skip {
                            ::nn::__private::activation::backward_in_place(#act, &acts[#y], &mut grads[#gy], #width)?;
                        }
                    }
                } else if needs_input {
                    quote! {
                        let x = &acts[#x];
                        let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                        if #skip {
                            ::nn::__private::merge::accumulate(dy, dx)?;
                        } else {
                            ::nn::__private::activation::backward_from_input(#act, x, dy, dx, #width)?;
                        }
                    }
                } else {
                    quote! {
                        let y = &acts[#y];
                        let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                        if #skip {
                            ::nn::__private::merge::accumulate(dy, dx)?;
                        } else {
                            ::nn::__private::activation::backward(#act, y, dy, dx, #width)?;
                        }
                    }
                }
            }
            LayerConfig::BatchNormalization(kind::BatchNormalization { center, scale, .. }) => {
                let rows = rows_per_sample(&input_shape);
                let c = *input_shape.last().unwrap_or(&0);
                let saved = self.plan.saved[i].unwrap_or(0);
                let (v0, v1) = (lit(saved), lit(saved + 2 * c));
                let (gamma_at, beta_at) = gamma_beta(lp.first, c, *scale, *center);
                if lp.frozen {
                    // Inference mode (see forward): the moving statistics
                    // normalise, no gamma or beta gradient.
                    let (s0, s2) = (lit(lp.state), lit(lp.state + 2 * c));
                    let cl = lit(c);
                    let (gamma, beta) = (
                        optional_slice(quote!(vectors), &gamma_at),
                        optional_slice(quote!(vectors), &beta_at),
                    );
                    quote! {
                        let x = &acts[#x];
                        let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                        let dx = if #need_dx { ::core::option::Option::Some(dx) } else { ::core::option::Option::None };
                        let (vectors, statistics) = state[..#s2].split_at_mut(#s0);
                        let (moving_mean, moving_variance) = statistics.split_at_mut(#cl);
                        let p = ::nn::__private::BatchNormParams {
                            gamma: #gamma,
                            beta: #beta,
                            moving_mean,
                            moving_variance,
                        };
                        L.backward_infer(n * #rows, x, p, dy, ::core::option::Option::None, ::core::option::Option::None, dx)?;
                    }
                } else {
                    let gamma = optional_slice(quote!(params), &gamma_at);
                    let (dgamma, dbeta) = optional_grads(&gamma_at, &beta_at);
                    quote! {
                        let x = &acts[#x];
                        let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                        let dx = if #need_dx { ::core::option::Option::Some(dx) } else { ::core::option::Option::None };
                        #dgamma
                        #dbeta
                        L.backward_train(n * #rows, x, #gamma, &saved[#v0..#v1], dy, dgamma, dbeta, dx, ws)?;
                    }
                }
            }
            LayerConfig::Dropout(_) => {
                let mask = range(self.plan.masks[i].unwrap_or(y_slot));
                quote! {
                    let mask = &acts[#mask];
                    let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                    L.backward(mask, dy, dx)?;
                }
            }
            LayerConfig::Add(_) => {
                // A fused convolution shares this add's gradient region: only
                // the other inputs need the gradient added.
                let fused_conv =
                    (0..self.graph.nodes.len()).find(|&c| self.plan.fusions[c].is_some_and(|f| f.add == i));
                let parts: Vec<TokenStream> = node
                    .inputs
                    .iter()
                    .filter(|&&input| Some(input) != fused_conv)
                    .map(|&input| {
                        let xr = range(self.plan.grad_slots[input]);
                        quote! {
                            let (dx, dy) = ::nn::__private::arena::two_mut(grads, #xr, #gy)?;
                            ::nn::__private::merge::accumulate(dy, dx)?;
                        }
                    })
                    .collect();
                quote!(#({ #parts })*)
            }
            LayerConfig::Subtract(_)
            | LayerConfig::Multiply(_)
            | LayerConfig::Average(_)
            | LayerConfig::Maximum(_)
            | LayerConfig::Minimum(_) => {
                // One call per input (an input given twice gets both terms),
                // each reading every input of the forward pass.
                let op = merge_op_tokens(&layer.config);
                let reads: Vec<TokenStream> = node
                    .inputs
                    .iter()
                    .map(|&x| {
                        let r = range(self.plan.slots[x]);
                        quote!(&acts[#r])
                    })
                    .collect();
                let parts = node.inputs.iter().enumerate().map(|(k, &input)| {
                    let xr = range(self.plan.grad_slots[input]);
                    let k = lit(k);
                    quote! {
                        let (dx, dy) = ::nn::__private::arena::two_mut(grads, #xr, #gy)?;
                        ::nn::__private::elementwise_merge::backward(#op, inputs, #k, dy, dx)?;
                    }
                });
                quote! {
                    let inputs: &[&[::core::primitive::f32]] = &[#(#reads),*];
                    #({ #parts })*
                }
            }
            LayerConfig::Custom(c) => {
                let (index, lname) = (lit(c.index), &layer.name);
                let ranges = custom_weight_ranges(c, lp.first);
                let weights = ranges
                    .iter()
                    .map(|&(a, b)| (lit(a), lit(b)))
                    .map(|(a, b)| quote!(&params[#a..#b]));
                // Disjoint `&mut` gradients of the weights, split off in order.
                let end = lit(ranges.last().map_or(lp.first, |r| r.1));
                let names: Vec<proc_macro2::Ident> = (0..ranges.len())
                    .map(|k| proc_macro2::Ident::new(&format!("dw{k}"), proc_macro2::Span::mixed_site()))
                    .collect();
                let splits = ranges.iter().zip(&names).map(|((a, b), dw)| {
                    let len = lit(b - a);
                    quote!(let (#dw, rest) = rest.split_at_mut(#len);)
                });
                let call = quote! {
                    let layer = custom_layers.get(<Self as ::nn::__private::Model>::SPEC.name, #lname, #index)?;
                    let weights: &[&[::core::primitive::f32]] = &[#(#weights),*];
                    let rest: &mut [::core::primitive::f32] = &mut pgrads[#first..#end];
                    #(#splits)*
                    let dweights: &mut [&mut [::core::primitive::f32]] = &mut [#(#names),*];
                    let (x, y) = (&acts[#x], &acts[#y]);
                };
                if c.weights.is_empty() {
                    // Nothing to do when the input's gradient is not wanted.
                    quote! {
                        if #need_dx {
                            #call
                            let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                            layer.backward(n, x, weights, y, dy, dx, dweights);
                        }
                    }
                } else {
                    // The weights' gradients are always wanted; an unwanted
                    // input gradient goes to scratch.
                    quote! {
                        #call
                        if #need_dx {
                            let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                            layer.backward(n, x, weights, y, dy, dx, dweights);
                        } else {
                            let mut scratch = ::std::vec![0.0; x.len()];
                            layer.backward(n, x, weights, y, &grads[#gy], &mut scratch, dweights);
                        }
                    }
                }
            }
            LayerConfig::Abs(_) | LayerConfig::Square(_) | LayerConfig::Sqrt(_) => {
                let op = unary_op_tokens(&layer.config);
                quote! {
                    let x = &acts[#x];
                    let (dx, dy) = ::nn::__private::arena::two_mut(grads, #gx, #gy)?;
                    ::nn::__private::elementwise_unary::backward(#op, x, dy, dx)?;
                }
            }
            LayerConfig::Concatenate(_) => {
                let total = lit(*node.shape.last().unwrap_or(&0));
                let rows = rows_per_sample(&input_shape);
                // Inputs written in place read their gradient where it lies.
                let parts: Vec<TokenStream> = self
                    .copied_concat_inputs(i)
                    .map(|(input, offset, channels)| {
                        let xr = range(self.plan.grad_slots[input]);
                        let (off, cl) = (lit(offset), lit(channels));
                        quote! {
                            let (dx, dy) = ::nn::__private::arena::two_mut(grads, #xr, #gy)?;
                            ::nn::__private::merge::concat_backward_part(n * #rows, #total, #off, #cl, dy, dx)?;
                        }
                    })
                    .collect();
                quote!(#({ #parts })*)
            }
        };
        if body.is_empty() && zero.is_empty() {
            return TokenStream::new();
        }
        quote! {
            {
                #[doc = #comment]
                #(#zero)*
                #constant
                #body
            }
        }
    }
}

fn ix(rank: usize) -> TokenStream {
    match rank {
        1 => quote!(::nn::__private::ndarray::Ix1),
        2 => quote!(::nn::__private::ndarray::Ix2),
        3 => quote!(::nn::__private::ndarray::Ix3),
        4 => quote!(::nn::__private::ndarray::Ix4),
        5 => quote!(::nn::__private::ndarray::Ix5),
        6 => quote!(::nn::__private::ndarray::Ix6),
        _ => quote!(::nn::__private::ndarray::IxDyn),
    }
}

/// Each declared weight of a custom layer as `first..end` in the parameter
/// buffer, one after another from the layer's `first`.
fn custom_weight_ranges(c: &kind::Custom, first: usize) -> Vec<(usize, usize)> {
    let mut at = first;
    c.declared_weights()
        .iter()
        .map(|w| {
            let len: usize = w.shape.iter().product();
            at += len;
            (at - len, at)
        })
        .collect()
}

fn shape_list(shape: &[usize]) -> TokenStream {
    let dims = shape.iter().map(|&d| lit(d));
    quote!(&[#(#dims),*])
}

/// The complete expansion of one network.
pub fn expand(def: &NetworkDef, graph: &Graph) -> TokenStream {
    let plan = plan(graph);
    let emitter = Emitter { graph, plan: &plan };
    // Inference-mode forward passes run the same layers over a layout
    // planned by liveness (no activations kept for backward).
    let inference_plan = crate::inference_plan::inference_plan(graph, &plan);
    let inference_emitter = Emitter {
        graph,
        plan: &inference_plan,
    };
    let name = &def.name;
    let vis = &def.vis;
    let attrs = &def.attrs;
    let name_str = name.to_string();

    let forward: Vec<TokenStream> = (0..graph.nodes.len()).map(|i| emitter.forward(i)).collect();
    let inference_forward: Vec<TokenStream> = (0..graph.nodes.len())
        .map(|i| inference_emitter.forward(i))
        .collect();
    let backward: Vec<TokenStream> = (0..graph.nodes.len())
        .rev()
        .map(|i| emitter.backward(i))
        .collect();

    let tensor_specs = |ports: &[crate::graph::Port]| -> Vec<TokenStream> {
        ports
            .iter()
            .map(|p| {
                let n = p.name.to_string();
                let s = shape_list(&graph.nodes[p.node].shape);
                let node = lit(p.node);
                quote!(::nn::__private::TensorSpec { name: #n, shape: #s, node: #node })
            })
            .collect()
    };
    let input_specs = tensor_specs(&graph.inputs);
    let output_specs = tensor_specs(&graph.outputs);
    let slots = |plan: &Plan, ports: &[crate::graph::Port]| -> Vec<TokenStream> {
        ports
            .iter()
            .map(|p| {
                let s = plan.slots[p.node];
                let (o, l) = (lit(s.offset), lit(s.len));
                quote!(::nn::__private::Slot { offset: #o, len: #l })
            })
            .collect()
    };
    let output_activations: Vec<TokenStream> = graph
        .outputs
        .iter()
        .map(|p| match emitter.fusable_output(p.node) {
            Some((_, act)) => {
                let a = act_tokens(act);
                quote!(::core::option::Option::Some(#a))
            }
            None => quote!(::core::option::Option::None),
        })
        .collect();
    let input_slots = slots(&plan, &graph.inputs);
    let output_slots = slots(&plan, &graph.outputs);
    let inference_input_slots = slots(&inference_plan, &graph.inputs);
    let inference_output_slots = slots(&inference_plan, &graph.outputs);
    let inference_arena = lit(inference_plan.arena_per_sample);
    let grad_slots = |ports: &[crate::graph::Port]| -> Vec<TokenStream> {
        ports
            .iter()
            .map(|p| {
                let s = plan.grad_slots[p.node];
                let (o, l) = (lit(s.offset), lit(s.len));
                quote!(::nn::__private::Slot { offset: #o, len: #l })
            })
            .collect()
    };
    let input_grad_slots = grad_slots(&graph.inputs);
    let output_grad_slots = grad_slots(&graph.outputs);
    let grad_per_sample = lit(plan.grad_per_sample);

    let param_specs: Vec<TokenStream> = plan
        .params
        .iter()
        .map(|p| {
            let key = &p.key;
            let shape = shape_list(&p.shape);
            let (offset, len, fan_in, fan_out) = (lit(p.offset), lit(p.len), lit(p.fan_in), lit(p.fan_out));
            let (trainable, frozen) = (p.trainable, p.frozen);
            let init = vocab_tokens(&p.init);
            quote!(::nn::__private::ParamSpec {
                key: #key, shape: #shape, offset: #offset, len: #len, trainable: #trainable,
                frozen: #frozen, init: #init, fan_in: #fan_in, fan_out: #fan_out,
            })
        })
        .collect();

    let layer_specs: Vec<TokenStream> = graph
        .layers
        .iter()
        .map(|layer| {
            let lname = &layer.name;
            let kind = layer.config.class();
            let first = layer.nodes[0];
            let shape = shape_list(&graph.nodes[first].shape);
            let input = layer.input_shape.clone().unwrap_or_default();
            let (t, s) = param_counts(&layer.config, &input);
            let count = lit(t + s);
            let connected: Vec<String> = layer
                .nodes
                .iter()
                .flat_map(|&n| graph.nodes[n].inputs.iter().map(|&i| graph.tensor_ref(i)))
                .collect();
            let detail = layer.config.detail();
            let config = crate::spec_emit::layer_config(&layer.config);
            let weights = crate::spec_emit::layer_weights(layer, &plan);
            quote!(::nn::__private::LayerSpec {
                name: #lname, kind: #kind, output_shape: #shape, params: #count,
                connected_to: &[#(#connected),*], detail: #detail, config: #config, weights: #weights,
            })
        })
        .collect();

    let nodes = crate::spec_emit::nodes(graph);
    let nested = crate::spec_emit::nested(graph);
    let (param_len, state_len) = (lit(plan.param_len), lit(plan.state_len));
    let arena = lit(plan.arena_per_sample);
    let saved_len = lit(plan.saved_len);

    // Typed convenience methods.
    // Parameters are named by position, not after the user's tensors: a
    // user's name may be a constant or unit struct in scope (a parameter
    // named `LEFT` would then be a pattern), a raw identifier (`r#type`) or
    // break the naming lints. The doc comment lists the tensors in order.
    let param = |prefix: &str, i: usize| {
        proc_macro2::Ident::new(&format!("{prefix}_{i}"), proc_macro2::Span::mixed_site())
    };
    let input_idents: Vec<_> = (0..graph.inputs.len()).map(|i| param("input", i)).collect();
    let input_types: Vec<TokenStream> = graph
        .inputs
        .iter()
        .map(|p| {
            let d = ix(graph.nodes[p.node].shape.len() + 1);
            quote!(::nn::__private::ndarray::ArrayView<'views, ::core::primitive::f32, #d>)
        })
        .collect();
    let output_dims: Vec<TokenStream> = graph
        .outputs
        .iter()
        .map(|p| ix(graph.nodes[p.node].shape.len() + 1))
        .collect();
    let output_idents: Vec<_> = (0..graph.outputs.len())
        .map(|i| param("output_grad", i))
        .collect();
    // Locals of the typed methods, hygienic so that an input named `mode`
    // or `outs` cannot collide with them.
    let mode = proc_macro2::Ident::new("mode", proc_macro2::Span::mixed_site());
    let outs = proc_macro2::Ident::new("outs", proc_macro2::Span::mixed_site());
    let (out_type, out_value) = if output_dims.len() == 1 {
        let d = &output_dims[0];
        (
            quote!(::nn::__private::ndarray::Array<::core::primitive::f32, #d>),
            quote!(::nn::__private::model::typed_output::<#d>(&mut #outs)),
        )
    } else {
        let types = output_dims
            .iter()
            .map(|d| quote!(::nn::__private::ndarray::Array<::core::primitive::f32, #d>));
        let values = output_dims
            .iter()
            .map(|d| quote!(::nn::__private::model::typed_output::<#d>(&mut #outs)?));
        (
            quote!((#(#types),*)),
            quote!(::core::result::Result::Ok((#(#values),*))),
        )
    };
    let grad_types: Vec<TokenStream> = output_dims
        .iter()
        .map(|d| quote!(::nn::__private::ndarray::ArrayView<'views, ::core::primitive::f32, #d>))
        .collect();
    let doc_predict = format!(
        "Inference forward pass. Inputs: {}. Returns the output{} in declaration order.",
        graph
            .inputs
            .iter()
            .map(|p| p.name.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        if graph.outputs.len() == 1 { "" } else { "s" }
    );
    let doc_backward = format!(
        "Backward from the gradient of each output ({}, in this order); parameter gradients \
         are then in `param_grads()`, input gradients in `input_grad(i)`.",
        graph
            .outputs
            .iter()
            .map(|p| p.name.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );

    // The constructor's locals: hygienic, so that a custom layer's value
    // expression cannot see them. A binding still resolves to a constant
    // or unit struct of the user's scope with its name (mixed-site hygiene
    // applies to local variables only), hence names no one gives a
    // constant. The parameter keeps its documented name `rng`.
    let rng = proc_macro2::Ident::new("rng", proc_macro2::Span::mixed_site());
    let local =
        |name: &str| proc_macro2::Ident::new(&format!("__nn_{name}"), proc_macro2::Span::mixed_site());
    let (model, error, seeded, core) = (local("model"), local("error"), local("seeded"), local("core"));
    let custom_values: Vec<TokenStream> = graph
        .layers
        .iter()
        .zip(&plan.layer_params)
        .filter_map(|(layer, lp)| {
            let LayerConfig::Custom(c) = layer.config else {
                return None;
            };
            let value = layer.custom.as_ref()?;
            let lname = &layer.name;
            let input = shape_list(layer.input_shape.as_deref().unwrap_or_default());
            let output = shape_list(c.output());
            let declared = c.declared_weights().iter().map(|w| {
                let (wname, shape) = (w.name, shape_list(w.shape));
                quote!((#wname, #shape))
            });
            let first = lit(lp.first);
            let end = lit(custom_weight_ranges(&c, lp.first).last().map_or(lp.first, |r| r.1));
            Some(quote! {
                {
                    let mut #seeded = <::nn::__private::rand::rngs::StdRng as ::nn::__private::rand::SeedableRng>::seed_from_u64(
                        ::nn::__private::rand::Rng::random::<::core::primitive::u64>(&mut *#rng),
                    );
                    let #core = ::nn::__private::Generated::core_mut(&mut #model);
                    #core.custom_layers.add(
                        #name_str,
                        #lname,
                        ::std::boxed::Box::new(#value),
                        #input,
                        #output,
                        &[#(#declared),*],
                        &mut #core.params[#first..#end],
                        &mut #seeded,
                    )?;
                }
            })
        })
        .collect();

    quote! {
        #(#attrs)*
        #vis struct #name {
            core: ::nn::__private::ModelCore,
        }

        impl #name {
            /// Parameters in total, trainable and not (Keras's "Total params").
            pub const PARAM_COUNT: ::core::primitive::usize = #param_len + #state_len;
            /// Parameters updated by training (Keras's "Trainable params").
            pub const TRAINABLE_PARAM_COUNT: ::core::primitive::usize = #param_len;
            /// State kept but not trained, such as batch-norm moving
            /// statistics (Keras's "Non-trainable params").
            pub const NON_TRAINABLE_PARAM_COUNT: ::core::primitive::usize = #state_len;

            /// A network initialised as Keras would (glorot_uniform kernels, zero biases).
            ///
            /// Never fails for a network without custom layers. With
            /// `Custom(..)` layers it panics, with [`Self::try_new`]'s
            /// message, if one of them does not fit its declaration; use
            /// `try_new` to get that as an error instead.
            pub fn new<R: ::nn::__private::rand::Rng + ?Sized>(#rng: &mut R) -> Self {
                match Self::try_new(#rng) {
                    ::core::result::Result::Ok(#model) => #model,
                    ::core::result::Result::Err(#error) => ::core::panic!("{}", #error),
                }
            }

            /// Like [`Self::new`], but a custom layer whose own output shape
            /// (`CustomLayer::output_shape` for its input shape) differs from
            /// its declared `output = [..]`, or is an error, is an
            /// [`NnError::CustomLayer`](::nn::NnError) naming the layer and
            /// both shapes. Each custom layer's value is evaluated here, once.
            pub fn try_new<R: ::nn::__private::rand::Rng + ?Sized>(#rng: &mut R) -> ::core::result::Result<Self, ::nn::__private::NnError> {
                let mut #model = <Self as ::nn::__private::Model>::init(#rng);
                #(#custom_values)*
                ::core::result::Result::Ok(#model)
            }

            /// Keras's `model.summary()` table.
            pub fn summary() -> ::std::string::String {
                <Self as ::nn::__private::Model>::summary()
            }

            /// Graphviz DOT of the layer graph with output shapes.
            pub fn dot() -> ::std::string::String {
                <Self as ::nn::__private::Model>::dot()
            }

            #[doc = #doc_predict]
            pub fn predict<'views>(&mut self, #(#input_idents: #input_types),*) -> ::core::result::Result<#out_type, ::nn::__private::NnError> {
                self.forward_typed(::nn::__private::Mode::Infer, #(#input_idents),*)
            }

            /// Training-mode forward pass (batch statistics, dropout), keeping
            /// what [`Self::backward`] needs.
            pub fn forward_train<'views>(&mut self, #(#input_idents: #input_types),*) -> ::core::result::Result<#out_type, ::nn::__private::NnError> {
                self.forward_typed(::nn::__private::Mode::Train, #(#input_idents),*)
            }

            #[doc = #doc_backward]
            pub fn backward<'views>(&mut self, #(#output_idents: #grad_types),*) -> ::core::result::Result<(), ::nn::__private::NnError> {
                <Self as ::nn::__private::Model>::backward_arrays(self, &[#(#output_idents.into_dyn()),*])
            }

            fn forward_typed<'views>(&mut self, #mode: ::nn::__private::Mode, #(#input_idents: #input_types),*) -> ::core::result::Result<#out_type, ::nn::__private::NnError> {
                let #outs = <Self as ::nn::__private::Model>::forward_arrays(self, &[#(#input_idents.into_dyn()),*], #mode)?;
                let mut #outs = #outs.into_iter();
                #out_value
            }
        }

        impl ::nn::__private::Model for #name {
            const SPEC: ::nn::__private::ModelSpec = ::nn::__private::ModelSpec {
                name: #name_str,
                inputs: &[#(#input_specs),*],
                outputs: &[#(#output_specs),*],
                params: &[#(#param_specs),*],
                layers: &[#(#layer_specs),*],
                nodes: #nodes,
                nested: #nested,
                param_len: #param_len,
                state_len: #state_len,
            };
        }

        impl ::nn::__private::Generated for #name {
            const ARENA_PER_SAMPLE: ::core::primitive::usize = #arena;
            const INFERENCE_ARENA_PER_SAMPLE: ::core::primitive::usize = #inference_arena;
            const INFERENCE_INPUT_SLOTS: &'static [::nn::__private::Slot] = &[#(#inference_input_slots),*];
            const INFERENCE_OUTPUT_SLOTS: &'static [::nn::__private::Slot] = &[#(#inference_output_slots),*];
            const GRAD_PER_SAMPLE: ::core::primitive::usize = #grad_per_sample;
            const INPUT_GRAD_SLOTS: &'static [::nn::__private::Slot] = &[#(#input_grad_slots),*];
            const OUTPUT_GRAD_SLOTS: &'static [::nn::__private::Slot] = &[#(#output_grad_slots),*];
            const SAVED_LEN: ::core::primitive::usize = #saved_len;
            const INPUT_SLOTS: &'static [::nn::__private::Slot] = &[#(#input_slots),*];
            const OUTPUT_SLOTS: &'static [::nn::__private::Slot] = &[#(#output_slots),*];
            const OUTPUT_ACTIVATIONS: &'static [::core::option::Option<::nn::__private::Activation>] = &[#(#output_activations),*];

            fn core(&self) -> &::nn::__private::ModelCore {
                &self.core
            }

            fn core_mut(&mut self) -> &mut ::nn::__private::ModelCore {
                &mut self.core
            }

            fn from_core(core: ::nn::__private::ModelCore) -> Self {
                Self { core }
            }

            #[allow(unused_variables, unused_mut, clippy::all)]
            fn run_forward(core: &mut ::nn::__private::ModelCore, mode: ::nn::__private::Mode) -> ::core::result::Result<(), ::nn::__private::NnError> {
                let ::nn::__private::ModelCore { params, state, arena, rng, custom_layers, .. } = core;
                let n = arena.batch;
                let train = mode == ::nn::__private::Mode::Train;
                let inference_layout = arena.inference_layout;
                let ::nn::__private::Arena { acts, saved, ws, .. } = arena;
                if inference_layout {
                    let train = false;
                    #(#inference_forward)*
                } else {
                    #(#forward)*
                }
                ::core::result::Result::Ok(())
            }

            #[allow(unused_variables, unused_mut, clippy::all)]
            fn run_backward(core: &mut ::nn::__private::ModelCore) -> ::core::result::Result<(), ::nn::__private::NnError> {
                let ::nn::__private::ModelCore { params, state, grads: pgrads, arena, want_input_grads, skip_output_activation, custom_layers, .. } = core;
                let want_input_grads = *want_input_grads;
                let skip_activation: &[::core::primitive::bool] = skip_output_activation;
                let n = arena.batch;
                let ::nn::__private::Arena { acts, grads, saved, ws, .. } = arena;
                #(#backward)*
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// What an invocation with errors still emits: the struct name, so code that
/// mentions it gets no cascade of "type not found" errors.
pub fn stub(def: &NetworkDef) -> TokenStream {
    let (attrs, vis, name) = (&def.attrs, &def.vis, &def.name);
    quote! {
        #(#attrs)*
        #vis struct #name {
            _not_built: (),
        }
    }
}
