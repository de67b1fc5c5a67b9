//! The static description of a generated network: its inputs, outputs,
//! parameters and layers. `network!` emits one [`ModelSpec`] constant per
//! network; everything generic (initialisation, summary, graph, weight files,
//! training, export) reads it instead of being generated again for every
//! network.

use rand::Rng;

use crate::init::{Fill, Initializer};
use crate::layer_config::LayerConfig;

/// A named tensor of the network's interface; `shape` excludes the batch axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: &'static str,
    pub shape: &'static [usize],
    /// The node (index into [`ModelSpec::nodes`]) that holds this tensor.
    pub node: usize,
}

impl TensorSpec {
    /// Elements per sample.
    pub const fn len(&self) -> usize {
        let mut n = 1;
        let mut i = 0;
        while i < self.shape.len() {
            n *= self.shape[i];
            i += 1;
        }
        n
    }

    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One parameter tensor (trainable, in the flat parameter buffer) or state
/// tensor (non-trainable, in the flat state buffer).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamSpec {
    /// Key in weight files: `<layer>.kernel`, `<layer>.bias`, `<layer>.gamma`, ...
    pub key: &'static str,
    /// Keras layout, e.g. `[kh, kw, cin, cout]` for a convolution kernel.
    pub shape: &'static [usize],
    /// Offset into the parameter buffer (trainable) or the state buffer.
    pub offset: usize,
    pub len: usize,
    /// Whether the optimizer trains it: it lives in the parameter buffer,
    /// else in the state buffer and counts as non-trainable.
    pub trainable: bool,
    /// A weight Keras would train (a kernel, gamma, ...) of a layer declared
    /// `trainable = false`: kept in the state buffer (`trainable` is false),
    /// but still the same tensor for weight files, whose architecture
    /// fingerprint does not change when a layer is frozen.
    pub frozen: bool,
    pub init: Initializer,
    pub fan_in: usize,
    pub fan_out: usize,
}

/// One row of the Keras summary (a layer; a shared layer is one row).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerSpec {
    pub name: &'static str,
    /// Keras class name: `Conv2D`, `MaxPooling2D`, `InputLayer`, ...
    pub kind: &'static str,
    /// Output shape without the batch axis.
    pub output_shape: &'static [usize],
    pub params: usize,
    /// Inbound tensors as Keras prints them: `conv2d_1[0][0]`.
    pub connected_to: &'static [&'static str],
    /// Short configuration for the graph: `3x3, same, relu`.
    pub detail: &'static str,
    /// The layer's kind and full configuration.
    pub config: LayerConfig,
    /// Its weights (indices into [`ModelSpec::params`]) in the order of
    /// [`LayerConfig::weights`].
    pub weights: &'static [usize],
}

/// One application of a layer, producing one tensor (Keras's node). Nodes
/// are in an order where every input comes before the nodes that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeSpec {
    /// Index into [`ModelSpec::layers`].
    pub layer: usize,
    /// The nodes whose outputs this one reads, in argument order.
    pub inputs: &'static [usize],
    /// Output shape without the batch axis.
    pub shape: &'static [usize],
}

/// A network used as a layer inside this one (Keras's nested `Model`): the
/// summary shows it as one row in place of its layers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NestedSpec {
    /// The instance's name: `tower_1`; its layers are `tower_1/...`.
    pub name: &'static str,
    /// The network's type name: `Tower`.
    pub kind: &'static str,
    /// Output shape of its first call, without the batch axis.
    pub output_shape: &'static [usize],
    /// Parameters of all its layers (trainable and not).
    pub params: usize,
    /// Inbound tensors of every call, as Keras prints them.
    pub connected_to: &'static [&'static str],
    /// Its layers (indices into [`ModelSpec::layers`]).
    pub layers: &'static [usize],
}

/// Everything static about one generated network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSpec {
    pub name: &'static str,
    pub inputs: &'static [TensorSpec],
    pub outputs: &'static [TensorSpec],
    pub params: &'static [ParamSpec],
    pub layers: &'static [LayerSpec],
    /// The layer graph: every application of every layer.
    pub nodes: &'static [NodeSpec],
    /// Networks used as layers, each one summary row.
    pub nested: &'static [NestedSpec],
    /// Length of the flat trainable-parameter buffer.
    pub param_len: usize,
    /// Length of the flat non-trainable state buffer (batch-norm statistics).
    pub state_len: usize,
}

impl ModelSpec {
    pub const fn trainable_count(&self) -> usize {
        self.param_len
    }

    pub const fn non_trainable_count(&self) -> usize {
        self.state_len
    }

    pub const fn total_count(&self) -> usize {
        self.param_len + self.state_len
    }

    /// Fresh parameter and state buffers filled by each tensor's initializer.
    pub fn initial_values<R: Rng + ?Sized>(&self, rng: &mut R) -> (Vec<f32>, Vec<f32>) {
        let mut params = vec![0.0; self.param_len];
        let mut state = vec![0.0; self.state_len];
        for p in self.params {
            let buffer = if p.trainable { &mut params } else { &mut state };
            p.init
                .fill(&mut buffer[p.offset..p.offset + p.len], p.fan_in, p.fan_out, rng);
        }
        (params, state)
    }

    /// The parameter spec with this key.
    pub fn param(&self, key: &str) -> Option<&ParamSpec> {
        self.params.iter().find(|p| p.key == key)
    }
}
