//! Phase 4, memory plan: where every tensor, parameter and saved statistic
//! lives, as constant offsets. Activation offsets are per sample and given
//! out in node order (a concatenation that convolutions write in place is
//! placed when its first writer comes); gradient regions are given out by
//! liveness and reused. Generated code splits borrows by these offsets, so
//! every region it reads or writes at once is disjoint by construction.

use crate::graph::Graph;
use nn_vocab::{layer as kind, Activation, Initializer, LayerConfig};

/// A per-sample region of the activation arena.
#[derive(Clone, Copy)]
pub struct Slot {
    pub offset: usize,
    pub len: usize,
}

impl Slot {
    pub fn end(&self) -> usize {
        self.offset + self.len
    }
}

/// One parameter or state tensor.
#[derive(Clone)]
pub struct Param {
    pub key: String,
    pub shape: Vec<usize>,
    pub offset: usize,
    pub len: usize,
    pub trainable: bool,
    /// A trainable kind of weight of a `trainable = false` layer (kept with
    /// the state).
    pub frozen: bool,
    pub init: Initializer,
    pub fan_in: usize,
    pub fan_out: usize,
}

/// Where a layer's tensors are, by role.
#[derive(Default, Clone, Copy)]
pub struct LayerParams {
    /// Kernel (or gamma) offset in the buffer holding the layer's weights:
    /// the parameter buffer, or the state buffer if the layer is frozen.
    pub first: usize,
    /// Kernel length (or channels for batch norm).
    pub first_len: usize,
    /// Moving statistics offset in the state buffer (batch norm).
    pub state: usize,
    /// Declared `trainable = false`: every weight is in the state buffer,
    /// gets no gradient and no update.
    pub frozen: bool,
}

#[derive(Clone)]
pub struct Plan {
    /// Output slot of each node. A flatten and an activation computed in
    /// place share their input's slot, a fused residual add its
    /// convolution's, and a convolution written into a concatenation has the
    /// whole concatenation's slot (it writes its channels).
    pub slots: Vec<Slot>,
    /// Activations computed in place over their input.
    pub in_place: Vec<bool>,
    /// Per convolution node: the residual add (and activation) its forward
    /// pass absorbs.
    pub fusions: Vec<Option<Fusion>>,
    /// Nodes whose forward pass a fused convolution performs.
    pub fused_away: Vec<bool>,
    /// Per convolution node: the concatenation it writes its channels into.
    pub into_concat: Vec<Option<IntoConcat>>,
    /// Per pooling node: the convolution just before it, read by it alone,
    /// that inference runs together with it a few images at a time, so the
    /// convolution's output is pooled while it is still in cache.
    pub conv_before_pool: Vec<Option<usize>>,
    /// The node whose storage each node's output uses (itself unless it
    /// shares a slot as above).
    pub owners: Vec<usize>,
    /// Gradient slot of each node's output (shared like `slots`).
    pub grad_slots: Vec<Slot>,
    pub grad_per_sample: usize,
    /// Gradient regions to zero just before each node's backward: those it
    /// is the first (in backward order) to write into and cannot overwrite.
    pub zero_before: Vec<Vec<Slot>>,
    /// Per node, per input position: the node is the first (in backward
    /// order) to write that input's gradient region and overwrites it
    /// instead (no zeroing). Only the first position of a region a node
    /// writes twice (`add(x, x)`) overwrites; the later ones add.
    pub overwrite_input_grad: Vec<Vec<bool>>,
    /// Dropout masks, by node.
    pub masks: Vec<Option<Slot>>,
    /// Pre-activations of dense layers and convolutions with gelu or swish,
    /// by node.
    pub pre_activations: Vec<Option<Slot>>,
    /// Batch-norm saved statistics offset, by node.
    pub saved: Vec<Option<usize>>,
    pub arena_per_sample: usize,
    pub saved_len: usize,
    pub params: Vec<Param>,
    pub layer_params: Vec<LayerParams>,
    pub param_len: usize,
    pub state_len: usize,
}

/// `activation(add(conv(x), residual))` computed by the convolution in the
/// pass that writes its output.
#[derive(Clone, Copy)]
pub struct Fusion {
    pub add: usize,
    pub residual: usize,
    /// The in-place activation after the add, if any.
    pub activation: Option<usize>,
}

/// A convolution that writes its channels straight into a concatenation
/// (row stride: the concatenation's channel count), so the concatenation
/// copies nothing for it.
#[derive(Clone, Copy)]
pub struct IntoConcat {
    pub concat: usize,
    pub channel_offset: usize,
}

/// Concatenation inputs that can be written in place: convolutions read by
/// that concatenation alone (once), not outputs, not already fused. When an
/// activation then overwrites the concatenation in place, a convolution's own
/// output is lost, so only linear convolutions (whose backward never reads
/// their output) qualify.
fn find_concat_fusions(
    graph: &Graph,
    fusions: &[Option<Fusion>],
    in_place: &[bool],
) -> Vec<Option<IntoConcat>> {
    let mut into = vec![None; graph.nodes.len()];
    for (k, node) in graph.nodes.iter().enumerate() {
        if !matches!(graph.layers[node.layer].config, LayerConfig::Concatenate(_)) {
            continue;
        }
        let overwritten = consumers(graph, k).iter().any(|&r| in_place[r]);
        let mut offset = 0;
        for &i in &node.inputs {
            let once = node.inputs.iter().filter(|&&j| j == i).count() == 1;
            let keeps_output = match graph.layers[graph.nodes[i].layer].config {
                // Only the plain convolution kernel writes with a row stride.
                LayerConfig::Conv2D(conv) => {
                    conv.is_plain() && (!overwritten || conv.activation == Activation::Linear)
                }
                _ => false,
            };
            let eligible = once
                && keeps_output
                && consumers(graph, i) == [k]
                && fusions[i].is_none()
                && !graph.outputs.iter().any(|o| o.node == i);
            if eligible {
                into[i] = Some(IntoConcat {
                    concat: k,
                    channel_offset: offset,
                });
            }
            offset += graph.nodes[i].shape.last().copied().unwrap_or(0);
        }
    }
    into
}

/// Poolings (2-D max or average) whose input is a plain convolution
/// computed just before them (the next node, so the convolution's input is
/// still live), read by nothing else, not an output, writing its own
/// output (no residual, no concatenation, no kept pre-activation).
fn find_pool_fusions(
    graph: &Graph,
    fusions: &[Option<Fusion>],
    into_concat: &[Option<IntoConcat>],
) -> Vec<Option<usize>> {
    let mut conv_before_pool = vec![None; graph.nodes.len()];
    for (p, node) in graph.nodes.iter().enumerate() {
        if !matches!(
            graph.layers[node.layer].config,
            LayerConfig::MaxPooling2D(_) | LayerConfig::AveragePooling2D(_)
        ) {
            continue;
        }
        let Some(&c) = node.inputs.first() else {
            continue;
        };
        let conv_config = &graph.layers[graph.nodes[c].layer].config;
        let plain_conv = matches!(conv_config, LayerConfig::Conv2D(conv) if conv.is_plain());
        if plain_conv
            && c + 1 == p
            && consumers(graph, c) == [p]
            && fusions[c].is_none()
            && into_concat[c].is_none()
            && !keeps_pre_activation(conv_config)
            && !graph.outputs.iter().any(|o| o.node == c)
        {
            conv_before_pool[p] = Some(c);
        }
    }
    conv_before_pool
}

fn consumers(graph: &Graph, node: usize) -> Vec<usize> {
    (0..graph.nodes.len())
        .filter(|&i| graph.nodes[i].inputs.contains(&node))
        .collect()
}

/// Finds residual adds a convolution can absorb: a two-input add of a
/// linear convolution, read by nothing else, and a tensor computed before it.
fn find_fusions(graph: &Graph, in_place: &[bool]) -> Vec<Option<Fusion>> {
    let mut fusions = vec![None; graph.nodes.len()];
    for (a, node) in graph.nodes.iter().enumerate() {
        if !matches!(graph.layers[node.layer].config, LayerConfig::Add(_)) || node.inputs.len() != 2 {
            continue;
        }
        let (p, q) = (node.inputs[0], node.inputs[1]);
        if p == q {
            continue;
        }
        let eligible = |j: usize| {
            // Only the plain convolution kernel fuses a residual.
            matches!(
                graph.layers[graph.nodes[j].layer].config,
                LayerConfig::Conv2D(conv @ kind::Conv2D {
                    activation: Activation::Linear,
                    ..
                }) if conv.is_plain()
            ) && consumers(graph, j) == [a]
                && !graph.outputs.iter().any(|o| o.node == j)
        };
        let (conv, residual) = if q > p && eligible(q) {
            (q, p)
        } else if p > q && eligible(p) {
            (p, q)
        } else {
            continue;
        };
        let after = consumers(graph, a);
        let activation = match after[..] {
            [r] if in_place[r] => Some(r),
            _ => None,
        };
        fusions[conv] = Some(Fusion {
            add: a,
            residual,
            activation,
        });
    }
    fusions
}

/// Whether an activation may overwrite its input: the input is read by this
/// activation alone, is its own storage (not an alias, not an input or
/// output of the network), and its producer's backward does not read it.
fn can_run_in_place(graph: &Graph, node: usize) -> bool {
    let n = &graph.nodes[node];
    let config = &graph.layers[n.layer].config;
    // gelu and swish differentiate from their input, which must survive.
    if !config.is_activation_layer() || config.activation().is_some_and(|a| a.derivative_needs_input()) {
        return false;
    }
    let input = n.inputs[0];
    let consumers = graph
        .nodes
        .iter()
        .flat_map(|m| m.inputs.iter())
        .filter(|&&i| i == input)
        .count();
    let is_output = graph.outputs.iter().any(|o| o.node == input);
    let producer_ignores_output = match &graph.layers[graph.nodes[input].layer].config {
        LayerConfig::Add(_)
        | LayerConfig::Concatenate(_)
        | LayerConfig::BatchNormalization(_)
        | LayerConfig::Dropout(_) => true,
        LayerConfig::Conv2D(kind::Conv2D { activation, .. })
        | LayerConfig::Dense(kind::Dense { activation, .. }) => *activation == Activation::Linear,
        LayerConfig::GlobalAveragePooling2D(_) | LayerConfig::AveragePooling2D(_) => true,
        // Others' backward reads their output, or is not known not to.
        _ => false,
    };
    consumers == 1 && !is_output && producer_ignores_output
}

/// Layers whose output is their input's storage under another shape
/// (row-major order is kept): no code runs for them.
pub fn is_alias(config: &LayerConfig) -> bool {
    matches!(
        config,
        LayerConfig::Flatten(_) | LayerConfig::Reshape(_) | LayerConfig::Identity(_)
    )
}

/// A dense layer or convolution whose activation is differentiated from
/// its input (gelu, swish): it keeps its pre-activation beside its output.
fn keeps_pre_activation(config: &LayerConfig) -> bool {
    // Every layer with a fused activation (`activation = ...`).
    !config.is_activation_layer() && config.activation().is_some_and(|a| a.derivative_needs_input())
}

/// The node whose storage `node` uses (itself unless it is an alias): the
/// earliest node of its alias group, whose backward runs last.
fn storage_owner(
    graph: &Graph,
    in_place: &[bool],
    fused_add_of: &[Option<usize>],
    concat_owner: &[Option<usize>],
    node: usize,
) -> usize {
    let mut n = node;
    loop {
        if let Some(rep) = concat_owner[n] {
            // A concatenation written in place by convolutions, or one of
            // those convolutions: the earliest of them holds the storage.
            return rep;
        }
        if in_place[n] || is_alias(&graph.layers[graph.nodes[n].layer].config) {
            n = graph.nodes[n].inputs[0];
        } else if let Some(conv) = fused_add_of[n] {
            n = conv;
        } else {
            return n;
        }
    }
}

/// Lays out gradients so regions are reused once their tensor's backward is
/// done. Backward visits nodes from last to first; a storage is live from
/// the first write into it (its first consumer in that order, or from the
/// start for network outputs) to its owner's backward (to the end for
/// network inputs, whose gradients the caller reads afterwards).
fn plan_gradients(graph: &Graph, owners: &[usize]) -> GradientPlan {
    let count = graph.nodes.len();
    // A storage is as long as the longest tensor of its alias group (a
    // concatenation is longer than the convolutions writing into it).
    let mut group_len = vec![0usize; count];
    for (n, node) in graph.nodes.iter().enumerate() {
        let len: usize = node.shape.iter().product();
        group_len[owners[n]] = group_len[owners[n]].max(len);
    }
    let len_of = |n: usize| group_len[n];
    // Backward time of node i is count - 1 - i.
    let time = |i: usize| count - 1 - i;
    let mut start = vec![usize::MAX; count];
    let mut end = vec![0usize; count];
    let mut seeded = vec![false; count];
    for o in &graph.outputs {
        let s = owners[o.node];
        start[s] = 0;
        seeded[s] = true;
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        for &input in &node.inputs {
            let s = owners[input];
            start[s] = start[s].min(time(i));
        }
    }
    let mut first_writer = vec![None; count];
    for s in 0..count {
        if owners[s] != s || start[s] == usize::MAX {
            continue;
        }
        end[s] = if matches!(graph.layers[graph.nodes[s].layer].config, LayerConfig::Input(_)) {
            usize::MAX
        } else {
            time(s)
        };
        if !seeded[s] {
            first_writer[s] = Some(count - 1 - start[s]);
        }
    }
    // First fit in order of start time.
    let mut order: Vec<usize> = (0..count)
        .filter(|&s| owners[s] == s && start[s] != usize::MAX)
        .collect();
    order.sort_by_key(|&s| (start[s], std::cmp::Reverse(len_of(s))));
    let mut placed: Vec<(usize, Slot)> = Vec::new();
    let mut own_slot = vec![Slot { offset: 0, len: 0 }; count];
    let mut total = 0;
    for &s in &order {
        let len = len_of(s);
        let mut live: Vec<Slot> = placed
            .iter()
            .filter(|(other, _)| start[*other] <= end[s] && start[s] <= end[*other])
            .map(|(_, slot)| *slot)
            .collect();
        live.sort_by_key(|slot| slot.offset);
        let mut offset = 0;
        for slot in &live {
            if offset + len <= slot.offset {
                break;
            }
            offset = offset.max(slot.end());
        }
        let slot = Slot { offset, len };
        total = total.max(slot.end());
        own_slot[s] = slot;
        placed.push((s, slot));
    }
    let grad_slots: Vec<Slot> = (0..count).map(|n| own_slot[owners[n]]).collect();
    let mut zero_before = vec![Vec::new(); count];
    let mut overwrite_input_grad: Vec<Vec<bool>> = graph
        .nodes
        .iter()
        .map(|node| vec![false; node.inputs.len()])
        .collect();
    for s in 0..count {
        let Some(writer) = first_writer[s] else {
            continue;
        };
        match first_write_that_overwrites(graph, owners, writer, s) {
            Some(position) => overwrite_input_grad[writer][position] = true,
            None => zero_before[writer].push(own_slot[s]),
        }
    }
    GradientPlan {
        grad_slots,
        per_sample: total,
        zero_before,
        overwrite_input_grad,
    }
}

struct GradientPlan {
    grad_slots: Vec<Slot>,
    per_sample: usize,
    zero_before: Vec<Vec<Slot>>,
    overwrite_input_grad: Vec<Vec<bool>>,
}

/// For `writer`, the first to write gradient storage `storage` in backward
/// order: the input position whose gradient it may overwrite instead of
/// zeroing the storage first, if any. The writer's kernel must write the
/// whole storage (every kernel here writes its input's whole gradient
/// region, which is the storage's slot) and always write it: a network
/// input's gradient is written only when asked for, so it stays zeroed.
/// The storage must not be the writer's own (an in-place step).
fn first_write_that_overwrites(
    graph: &Graph,
    owners: &[usize],
    writer: usize,
    storage: usize,
) -> Option<usize> {
    if matches!(
        graph.layers[graph.nodes[storage].layer].config,
        LayerConfig::Input(_)
    ) || owners[writer] == storage
    {
        return None;
    }
    let kernel_can_overwrite = match &graph.layers[graph.nodes[writer].layer].config {
        // The plain convolution kernel (the others only accumulate).
        LayerConfig::Conv2D(conv) => conv.is_plain(),
        LayerConfig::Dense(_)
        | LayerConfig::MaxPooling2D(_)
        | LayerConfig::AveragePooling2D(_)
        | LayerConfig::MaxPooling1D(_)
        | LayerConfig::AveragePooling1D(_)
        | LayerConfig::Add(_) => true,
        _ => false,
    };
    if !kernel_can_overwrite {
        return None;
    }
    // Writes go in input order; the first into this storage overwrites.
    graph.nodes[writer]
        .inputs
        .iter()
        .position(|&input| owners[input] == storage)
}

pub fn plan(graph: &Graph) -> Plan {
    let in_place: Vec<bool> = (0..graph.nodes.len())
        .map(|i| can_run_in_place(graph, i))
        .collect();
    let fusions = find_fusions(graph, &in_place);
    let mut fused_away = vec![false; graph.nodes.len()];
    // For a fused add: the convolution that computes it.
    let mut fused_add_of = vec![None; graph.nodes.len()];
    for (conv, f) in fusions.iter().enumerate() {
        if let Some(f) = f {
            fused_away[f.add] = true;
            fused_add_of[f.add] = Some(conv);
            if let Some(r) = f.activation {
                fused_away[r] = true;
            }
        }
    }
    let into_concat = find_concat_fusions(graph, &fusions, &in_place);
    let conv_before_pool = find_pool_fusions(graph, &fusions, &into_concat);
    // Per concatenation written in place: the earliest convolution writing it.
    let mut concat_owner: Vec<Option<usize>> = vec![None; graph.nodes.len()];
    for (conv, into) in into_concat.iter().enumerate() {
        if let Some(into) = into {
            let rep = concat_owner[into.concat].map_or(conv, |r: usize| r.min(conv));
            concat_owner[into.concat] = Some(rep);
        }
    }
    for (conv, into) in into_concat.iter().enumerate() {
        if let Some(into) = into {
            concat_owner[conv] = concat_owner[into.concat];
        }
    }
    // The concatenation's slot, allocated when its first writer comes.
    let mut concat_slot: Vec<Option<Slot>> = vec![None; graph.nodes.len()];
    let mut slots: Vec<Slot> = Vec::with_capacity(graph.nodes.len());
    let mut masks = vec![None; graph.nodes.len()];
    let mut pre_activations = vec![None; graph.nodes.len()];
    let mut saved = vec![None; graph.nodes.len()];
    let mut cursor = 0;
    let mut saved_len = 0;
    for (i, node) in graph.nodes.iter().enumerate() {
        let config = &graph.layers[node.layer].config;
        let len: usize = node.shape.iter().product();
        let slot = if is_alias(config) || in_place[i] {
            slots[node.inputs[0]]
        } else if let Some(conv) = fused_add_of[i] {
            slots[conv]
        } else if let Some(into) = into_concat[i] {
            // The whole concatenation; the convolution writes its channels.
            *concat_slot[into.concat].get_or_insert_with(|| {
                let concat_len: usize = graph.nodes[into.concat].shape.iter().product();
                let s = Slot {
                    offset: cursor,
                    len: concat_len,
                };
                cursor += concat_len;
                s
            })
        } else if let Some(s) = concat_slot[i] {
            s
        } else {
            let s = Slot { offset: cursor, len };
            cursor += len;
            s
        };
        slots.push(slot);
        if keeps_pre_activation(config) {
            pre_activations[i] = Some(Slot { offset: cursor, len });
            cursor += len;
        }
        if matches!(config, LayerConfig::Dropout(_)) {
            masks[i] = Some(Slot { offset: cursor, len });
            cursor += len;
        }
        if matches!(config, LayerConfig::BatchNormalization(_)) {
            saved[i] = Some(saved_len);
            saved_len += 2 * node.shape.last().copied().unwrap_or(0);
        }
    }
    let owners: Vec<usize> = (0..graph.nodes.len())
        .map(|i| storage_owner(graph, &in_place, &fused_add_of, &concat_owner, i))
        .collect();
    let GradientPlan {
        grad_slots,
        per_sample: grad_per_sample,
        zero_before,
        overwrite_input_grad,
    } = plan_gradients(graph, &owners);

    let mut params = Vec::new();
    let mut layer_params = vec![LayerParams::default(); graph.layers.len()];
    let (mut param_len, mut state_len) = (0, 0);
    for (li, layer) in graph.layers.iter().enumerate() {
        let input = layer.input_shape.clone().unwrap_or_default();
        let weights = layer.config.weights(&input);
        if weights.is_empty() {
            continue;
        }
        // Each layer's tensors are pushed contiguously from these offsets;
        // kernels find the first (kernel, gamma) at `first` and the state
        // (moving statistics) at `state`. A frozen layer keeps all of its
        // weights in the state buffer, where no optimizer reaches them.
        let frozen = !layer.trainable;
        let lp = &mut layer_params[li];
        lp.frozen = frozen;
        lp.first = if frozen { state_len } else { param_len };
        lp.first_len = weights.first().map_or(0, |w| w.shape.iter().product());
        let mut state_found = false;
        for weight in weights {
            let len: usize = weight.shape.iter().product();
            let trainable = weight.trainable && !frozen;
            let offset = if trainable { &mut param_len } else { &mut state_len };
            if !weight.trainable && !state_found {
                lp.state = *offset;
                state_found = true;
            }
            params.push(Param {
                key: format!("{}.{}", layer.name, weight.name),
                shape: weight.shape,
                offset: *offset,
                len,
                trainable,
                frozen: weight.trainable && frozen,
                init: weight.init,
                fan_in: weight.fans.0,
                fan_out: weight.fans.1,
            });
            *offset += len;
        }
    }
    Plan {
        slots,
        in_place,
        fusions,
        fused_away,
        into_concat,
        conv_before_pool,
        owners,
        grad_slots,
        grad_per_sample,
        zero_before,
        overwrite_input_grad,
        masks,
        pre_activations,
        saved,
        arena_per_sample: cursor,
        saved_len,
        params,
        layer_params,
        param_len,
        state_len,
    }
}
