//! Phase 3, shapes: the output shape of each layer from its inputs' (the
//! rule is the layer's own, in the vocabulary), parameter counts, and the
//! limits that keep a network computable. Shapes exclude the batch axis.

pub use nn_vocab::shape::{checked_len, show, Operand, MAX_ELEMENTS};
use nn_vocab::LayerConfig;

pub type Shape = Vec<usize>;

/// Infers the output shape of `layer` (its display name) applied to `inputs`.
pub fn infer(layer: &str, config: &LayerConfig, inputs: &[Operand]) -> Result<Shape, String> {
    config.output_shape(layer, inputs)
}

/// Trainable and non-trainable parameter counts of a layer with this input
/// shape, or `None` if they overflow.
pub fn checked_param_counts(config: &LayerConfig, input: &[usize]) -> Option<(usize, usize)> {
    config
        .weights(input)
        .iter()
        .try_fold((0usize, 0usize), |(trainable, state), w| {
            let len = w.checked_len()?;
            Some(if w.trainable {
                (trainable.checked_add(len)?, state)
            } else {
                (trainable, state.checked_add(len)?)
            })
        })
}

/// Parameter counts of a layer the graph has already checked (see
/// [`checked_param_counts`]; every layer in a built graph is in range).
pub fn param_counts(config: &LayerConfig, input: &[usize]) -> (usize, usize) {
    checked_param_counts(config, input).unwrap_or((0, 0))
}

/// Most multiply-adds (or window reads) one layer may do per sample: 2^40,
/// hundreds of times the largest layer of VGG or ResNet, and far below
/// what would keep a forward pass from finishing.
pub const MAX_WORK: u64 = 1 << 40;

/// Multiply-adds (or window reads) per sample of a layer taking `input` and
/// producing `output`, saturating on overflow.
pub fn work(config: &LayerConfig, input: &[usize], output: &[usize]) -> u64 {
    config.work(input, output)
}
