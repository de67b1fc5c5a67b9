//! Phase 4, memory plan: where every tensor, parameter and saved statistic
//! lives, as constant offsets. Activation offsets are per sample and grow in
//! node order, so a layer's output always lies after its inputs.

use crate::graph::Graph;
use crate::layers::{Config, Init};
use crate::shape::param_counts;

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
pub struct Param {
    pub key: String,
    pub shape: Vec<usize>,
    pub offset: usize,
    pub len: usize,
    pub trainable: bool,
    pub init: Init,
    pub fan_in: usize,
    pub fan_out: usize,
}

/// Where a layer's tensors are, by role.
#[derive(Default, Clone, Copy)]
pub struct LayerParams {
    /// Kernel (or gamma) offset in the parameter buffer.
    pub first: usize,
    /// Kernel length (or channels for batch norm).
    pub first_len: usize,
    /// Bias (or beta) present, right after `first`.
    pub has_second: bool,
    /// Moving statistics offset in the state buffer (batch norm).
    pub state: usize,
}

pub struct Plan {
    /// Output slot of each node (a flatten shares its input's slot).
    pub slots: Vec<Slot>,
    /// Dropout masks, by node.
    pub masks: Vec<Option<Slot>>,
    /// Batch-norm saved statistics offset, by node.
    pub saved: Vec<Option<usize>>,
    pub arena_per_sample: usize,
    pub saved_len: usize,
    pub params: Vec<Param>,
    pub layer_params: Vec<LayerParams>,
    pub param_len: usize,
    pub state_len: usize,
}

pub fn plan(graph: &Graph) -> Plan {
    let mut slots: Vec<Slot> = Vec::with_capacity(graph.nodes.len());
    let mut masks = vec![None; graph.nodes.len()];
    let mut saved = vec![None; graph.nodes.len()];
    let mut cursor = 0;
    let mut saved_len = 0;
    for (i, node) in graph.nodes.iter().enumerate() {
        let config = &graph.layers[node.layer].config;
        let len: usize = node.shape.iter().product();
        let slot = if matches!(config, Config::Flatten) {
            slots[node.inputs[0]]
        } else {
            let s = Slot { offset: cursor, len };
            cursor += len;
            s
        };
        slots.push(slot);
        if matches!(config, Config::Dropout { .. }) {
            masks[i] = Some(Slot { offset: cursor, len });
            cursor += len;
        }
        if matches!(config, Config::BatchNorm { .. }) {
            saved[i] = Some(saved_len);
            saved_len += 2 * node.shape.last().copied().unwrap_or(0);
        }
    }

    let mut params = Vec::new();
    let mut layer_params = vec![LayerParams::default(); graph.layers.len()];
    let (mut param_len, mut state_len) = (0, 0);
    for (li, layer) in graph.layers.iter().enumerate() {
        let input = layer.input_shape.clone().unwrap_or_default();
        let (trainable, _) = param_counts(&layer.config, &input);
        if trainable == 0 {
            continue;
        }
        let cin = input.last().copied().unwrap_or(0);
        // Each layer's tensors are pushed contiguously from these offsets.
        let (param_start, state_start) = (param_len, state_len);
        let mut push = |key: &str, shape: Vec<usize>, trainable: bool, init: Init, fans: (usize, usize)| {
            let len: usize = shape.iter().product();
            let offset = if trainable { &mut param_len } else { &mut state_len };
            params.push(Param {
                key: format!("{}.{key}", layer.name),
                shape,
                offset: *offset,
                len,
                trainable,
                init,
                fan_in: fans.0,
                fan_out: fans.1,
            });
            *offset += len;
        };
        let lp = &mut layer_params[li];
        match &layer.config {
            Config::Conv2D {
                filters,
                kernel,
                use_bias,
                kernel_init,
                ..
            } => {
                let field = kernel.0 * kernel.1;
                lp.first = param_start;
                lp.first_len = field * cin * filters;
                lp.has_second = *use_bias;
                push(
                    "kernel",
                    vec![kernel.0, kernel.1, cin, *filters],
                    true,
                    *kernel_init,
                    (field * cin, field * filters),
                );
                if *use_bias {
                    push("bias", vec![*filters], true, Init::Zeros, (0, 0));
                }
            }
            Config::Dense {
                units,
                use_bias,
                kernel_init,
                ..
            } => {
                lp.first = param_start;
                lp.first_len = cin * units;
                lp.has_second = *use_bias;
                push("kernel", vec![cin, *units], true, *kernel_init, (cin, *units));
                if *use_bias {
                    push("bias", vec![*units], true, Init::Zeros, (0, 0));
                }
            }
            Config::BatchNorm { .. } => {
                lp.first = param_start;
                lp.first_len = cin;
                lp.has_second = true;
                lp.state = state_start;
                push("gamma", vec![cin], true, Init::Ones, (0, 0));
                push("beta", vec![cin], true, Init::Zeros, (0, 0));
                push("moving_mean", vec![cin], false, Init::Zeros, (0, 0));
                push("moving_variance", vec![cin], false, Init::Ones, (0, 0));
            }
            _ => {}
        }
    }
    Plan {
        slots,
        masks,
        saved,
        arena_per_sample: cursor,
        saved_len,
        params,
        layer_params,
        param_len,
        state_len,
    }
}
