//! Phase 4b, inference memory plan: the activation layout of forward passes
//! in inference mode. Backward never follows them, so a tensor's storage is
//! free for reuse once the last layer reading it has run; only the network's
//! outputs (read by the caller afterwards) live to the end. The training plan
//! keeps every activation, because backward reads them.
//!
//! Storage groups (a tensor and its aliases, in-place activations, fused adds
//! and concatenations written in place) are those of the training plan and
//! keep their inner layout; only where each group starts changes. Forward
//! code is the same code emitted over these offsets, so outputs are
//! bit-identical to a forward over the training layout, except where a batch
//! normalization is folded into the convolution before it
//! ([`batch_norm_folds`]), which changes them by rounding.

use crate::graph::Graph;
use crate::plan::{Plan, Slot};
use nn_vocab::{Activation, LayerConfig};

/// One region to place: live from node `first` to node `last` (inclusive;
/// `usize::MAX` for the end of the pass), `len` floats per sample.
struct Interval {
    first: usize,
    last: usize,
    len: usize,
}

/// Places regions first-fit in order of first use (longest first among
/// equals): each goes to the lowest offset clear of every placed region
/// whose lifetime overlaps its own. Returns the offsets and the total.
fn first_fit(intervals: &[Interval]) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..intervals.len()).collect();
    order.sort_by_key(|&k| (intervals[k].first, std::cmp::Reverse(intervals[k].len)));
    let mut offsets = vec![0; intervals.len()];
    let mut placed: Vec<usize> = Vec::with_capacity(intervals.len());
    let mut total = 0;
    for &k in &order {
        let me = &intervals[k];
        let mut live: Vec<Slot> = placed
            .iter()
            .filter(|&&other| {
                let o = &intervals[other];
                o.first <= me.last && me.first <= o.last
            })
            .map(|&other| Slot {
                offset: offsets[other],
                len: intervals[other].len,
            })
            .collect();
        live.sort_by_key(|slot| slot.offset);
        let mut offset = 0;
        for slot in &live {
            if offset + me.len <= slot.offset {
                break;
            }
            offset = offset.max(slot.end());
        }
        offsets[k] = offset;
        total = total.max(offset + me.len);
        placed.push(k);
    }
    (offsets, total)
}

/// The training plan with its activation layout replaced by one planned by
/// liveness: slots, pre-activation scratch (live only while their layer
/// runs), no dropout masks (inference draws none) and the arena size.
pub fn inference_plan(graph: &Graph, train: &Plan) -> Plan {
    let count = graph.nodes.len();
    let owners = &train.owners;
    // Each group's members share storage from the group's lowest offset.
    let mut base = vec![usize::MAX; count];
    for (slot, &g) in train.slots.iter().zip(owners) {
        base[g] = base[g].min(slot.offset);
    }
    let mut extent = vec![0usize; count];
    let mut first = vec![usize::MAX; count];
    let mut last = vec![0usize; count];
    for (n, node) in graph.nodes.iter().enumerate() {
        let g = owners[n];
        extent[g] = extent[g].max(train.slots[n].end() - base[g]);
        // Network inputs are copied in before the first layer runs.
        let written = match graph.layers[node.layer].config {
            LayerConfig::Input(_) => 0,
            _ => n,
        };
        first[g] = first[g].min(written);
        last[g] = last[g].max(written);
        for &input in &node.inputs {
            let read = owners[input];
            last[read] = last[read].max(n);
        }
    }
    for output in &graph.outputs {
        last[owners[output.node]] = usize::MAX;
    }
    // A folded convolution writes its batch normalization's output while it
    // still reads its own input: both are live at the convolution.
    let folds = batch_norm_folds(graph, train);
    for &(conv, norm) in &folds {
        let input = owners[graph.nodes[conv].inputs[0]];
        last[input] = last[input].max(norm);
        first[owners[norm]] = first[owners[norm]].min(conv);
    }
    // A fused convolution reads its residual before the add it absorbs;
    // the residual is read by that add, so it is live at the convolution.
    let groups: Vec<usize> = (0..count).filter(|&n| owners[n] == n).collect();
    let mut intervals: Vec<Interval> = groups
        .iter()
        .map(|&g| Interval {
            first: first[g],
            last: last[g],
            len: extent[g],
        })
        .collect();
    let scratch: Vec<(usize, usize)> = train
        .pre_activations
        .iter()
        .enumerate()
        .filter_map(|(n, pre)| pre.map(|p| (n, p.len)))
        .collect();
    intervals.extend(scratch.iter().map(|&(n, len)| Interval {
        first: n,
        last: n,
        len,
    }));
    let (offsets, total) = first_fit(&intervals);
    let mut group_offset = vec![0usize; count];
    for (k, &g) in groups.iter().enumerate() {
        group_offset[g] = offsets[k];
    }
    let mut plan = train.clone();
    for ((slot, trained), &g) in plan.slots.iter_mut().zip(&train.slots).zip(owners) {
        *slot = Slot {
            offset: group_offset[g] + (trained.offset - base[g]),
            len: trained.len,
        };
    }
    plan.pre_activations = vec![None; count];
    for (k, &(n, len)) in scratch.iter().enumerate() {
        plan.pre_activations[n] = Some(Slot {
            offset: offsets[groups.len() + k],
            len,
        });
    }
    for (mask, slot) in plan.masks.iter_mut().zip(&plan.slots) {
        if mask.is_some() {
            *mask = Some(Slot {
                offset: slot.end(),
                len: 0,
            });
        }
    }
    plan.arena_per_sample = total;
    for &(_, norm) in &folds {
        plan.fused_away[norm] = true;
    }
    plan
}

/// Inference batch normalizations folded into the convolution before them,
/// as `(convolution, batch normalization)` nodes: the convolution (plain,
/// linear, not frozen, not fused with anything else, not an output) feeds
/// that normalization alone, which is not frozen. The convolution's forward
/// then writes the normalized tensor (`Conv2d::forward_batch_norm`) and the
/// normalization's own pass is dropped. Training forward keeps both layers.
pub fn batch_norm_folds(graph: &Graph, train: &Plan) -> Vec<(usize, usize)> {
    let frozen = |node: usize| train.layer_params[graph.nodes[node].layer].frozen;
    graph
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(norm, node)| {
            let LayerConfig::BatchNormalization(_) = graph.layers[node.layer].config else {
                return None;
            };
            let &[conv] = node.inputs.as_slice() else {
                return None;
            };
            let LayerConfig::Conv2D(c) = &graph.layers[graph.nodes[conv].layer].config else {
                return None;
            };
            let readers = graph.nodes.iter().filter(|n| n.inputs.contains(&conv)).count();
            let foldable = c.is_plain()
                && c.activation == Activation::Linear
                && !frozen(conv)
                && !frozen(norm)
                && readers == 1
                && !graph.outputs.iter().any(|o| o.node == conv)
                && train.fusions[conv].is_none()
                && train.into_concat[conv].is_none()
                && !train.fused_away[conv];
            foldable.then_some((conv, norm))
        })
        .collect()
}
