//! What a shape rule sees and helpers the rules share. Shapes exclude the
//! batch axis.

use crate::padding::{output_len, Padding};

/// Largest tensor (elements per sample) or parameter count a network may
/// have: far beyond any real network, and small enough that offsets computed
/// from it never overflow.
pub const MAX_ELEMENTS: usize = 1 << 32;

/// Elements of a shape, or `None` past [`MAX_ELEMENTS`].
pub fn checked_len(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
}

/// `[64, 64, 3]`.
pub fn show(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// One input tensor as seen by a layer: its shape and how messages name it
/// (`` `x` `` or "the output of `conv2d_1`").
pub struct Operand<'a> {
    pub shape: &'a [usize],
    pub label: String,
}

/// A shape rule's answer: the output shape, or a message saying what does
/// not fit (the macro shows it at the layer call).
pub type ShapeResult = Result<Vec<usize>, String>;

/// `[height, width, channels]` of an image input, or the message that it is
/// not one.
pub fn expect_image(layer: &str, x: &Operand) -> Result<(usize, usize, usize), String> {
    match x.shape {
        [h, w, c] => Ok((*h, *w, *c)),
        _ => Err(format!(
            "{layer} expects an image tensor [height, width, channels] but {} is {}",
            x.label,
            show(x.shape)
        )),
    }
}

/// `[steps, channels]` of a sequence input, or the message that it is not
/// one.
pub fn expect_steps(layer: &str, x: &Operand) -> Result<(usize, usize), String> {
    match x.shape {
        [steps, c] => Ok((*steps, *c)),
        _ => Err(format!(
            "{layer} expects a sequence tensor [steps, channels] but {} is {}",
            x.label,
            show(x.shape)
        )),
    }
}

/// Output height and width of a sliding window, or the message that it does
/// not fit. `kind` names the window in the message ("kernel", "pooling").
pub fn window(
    layer: &str,
    kind: &str,
    x: &Operand,
    (h, w): (usize, usize),
    size: [usize; 2],
    strides: [usize; 2],
    padding: Padding,
) -> Result<(usize, usize), String> {
    match (
        output_len(h, size[0], strides[0], padding),
        output_len(w, size[1], strides[1], padding),
    ) {
        (Some(oh), Some(ow)) => Ok((oh, ow)),
        _ => Err(format!(
            "{layer}: the {}x{} {kind} window is larger than {} ({}x{} spatially) with padding = valid; \
             use a smaller window or padding = same",
            size[0], size[1], x.label, h, w
        )),
    }
}

/// The one input of a single-input layer (the graph has checked the count).
pub fn single<'a, 'b>(layer: &str, inputs: &'a [Operand<'b>]) -> Result<&'a Operand<'b>, String> {
    match inputs {
        [x] => Ok(x),
        _ => Err(format!("{layer} takes one tensor, got {}", inputs.len())),
    }
}

/// Product of the dimensions, saturating.
pub fn product(dims: &[usize]) -> u64 {
    dims.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64))
}
