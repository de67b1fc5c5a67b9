//! Phase 3, shapes: the output shape of each layer from its inputs', with an
//! actionable message when they do not fit. Shapes exclude the batch axis.

use crate::layers::{Config, MergeOp, Pad};

pub type Shape = Vec<usize>;

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

/// One input tensor as seen by a layer: its shape and how to name it.
pub struct Operand<'a> {
    pub shape: &'a [usize],
    pub label: String,
}

/// Output length along one axis under Keras's rule, or `None` if the window
/// does not fit.
fn out_len(input: usize, window: usize, stride: usize, padding: Pad) -> Option<usize> {
    match padding {
        Pad::Same => Some(input.div_ceil(stride)),
        Pad::Valid if window <= input => Some((input - window) / stride + 1),
        Pad::Valid => None,
    }
}

fn expect_rank3(layer: &str, x: &Operand) -> Result<(usize, usize, usize), String> {
    match x.shape {
        [h, w, c] => Ok((*h, *w, *c)),
        _ => Err(format!(
            "{layer} expects an image tensor [height, width, channels] but {} is {}",
            x.label,
            show(x.shape)
        )),
    }
}

fn window(
    layer: &str,
    kind: &str,
    x: &Operand,
    (h, w): (usize, usize),
    size: (usize, usize),
    strides: (usize, usize),
    padding: Pad,
) -> Result<(usize, usize), String> {
    match (
        out_len(h, size.0, strides.0, padding),
        out_len(w, size.1, strides.1, padding),
    ) {
        (Some(oh), Some(ow)) => Ok((oh, ow)),
        _ => Err(format!(
            "{layer}: the {}x{} {kind} window is larger than {} ({}x{} spatially) with padding = valid; \
             use a smaller window or padding = same",
            size.0, size.1, x.label, h, w
        )),
    }
}

/// Infers the output shape of `layer` (its display name) applied to `inputs`.
pub fn infer(layer: &str, config: &Config, inputs: &[Operand]) -> Result<Shape, String> {
    if config.is_merge() {
        return infer_merge(layer, config, inputs);
    }
    let x = match inputs {
        [x] => x,
        _ => return Err(format!("{layer} takes one tensor, got {}", inputs.len())),
    };
    match config {
        Config::Input => Ok(x.shape.to_vec()),
        Config::Conv2D {
            filters,
            kernel,
            strides,
            padding,
            ..
        } => {
            let (h, w, _) = expect_rank3(layer, x)?;
            let (oh, ow) = window(layer, "kernel", x, (h, w), *kernel, *strides, *padding)?;
            Ok(vec![oh, ow, *filters])
        }
        Config::Pool {
            size,
            strides,
            padding,
            ..
        } => {
            let (h, w, c) = expect_rank3(layer, x)?;
            let (oh, ow) = window(layer, "pooling", x, (h, w), *size, *strides, *padding)?;
            Ok(vec![oh, ow, c])
        }
        Config::GlobalAveragePool => {
            let (_, _, c) = expect_rank3(layer, x)?;
            Ok(vec![c])
        }
        Config::Border {
            crop,
            top,
            bottom,
            left,
            right,
        } => {
            let (h, w, c) = expect_rank3(layer, x)?;
            let rows = top.checked_add(*bottom);
            let columns = left.checked_add(*right);
            let (Some(rows), Some(columns)) = (rows, columns) else {
                return Err(format!("{layer}: the amounts are out of range"));
            };
            if !crop {
                return match (h.checked_add(rows), w.checked_add(columns)) {
                    (Some(oh), Some(ow)) => Ok(vec![oh, ow, c]),
                    _ => Err(format!("{layer}: the amounts are out of range")),
                };
            }
            if rows >= h || columns >= w {
                return Err(format!(
                    "{layer}: cropping {top}+{bottom} rows and {left}+{right} columns of {} ({h}x{w} \
                     spatially) leaves nothing; crop less than the image",
                    x.label
                ));
            }
            Ok(vec![h - rows, w - columns, c])
        }
        Config::Dense { units, .. } => {
            let mut out = x.shape.to_vec();
            match out.last_mut() {
                Some(last) => *last = *units,
                None => return Err(format!("{layer} needs a tensor with at least one axis")),
            }
            Ok(out)
        }
        Config::Flatten => match checked_len(x.shape) {
            Some(len) => Ok(vec![len]),
            None => Err(format!("{layer}: {} is too large to flatten", x.label)),
        },
        Config::Activation(..) | Config::Dropout { .. } | Config::BatchNorm { .. } | Config::Unary(_) => {
            Ok(x.shape.to_vec())
        }
        Config::Add | Config::Concat | Config::Merge(_) => infer_merge(layer, config, inputs),
    }
}

fn infer_merge(layer: &str, config: &Config, inputs: &[Operand]) -> Result<Shape, String> {
    let Some((first, rest)) = inputs.split_first() else {
        return Err(format!("{layer} needs at least one tensor"));
    };
    match config {
        Config::Merge(MergeOp::Subtract) if inputs.len() != 2 => Err(format!(
            "{layer} takes exactly two tensors (the first minus the second), got {}",
            inputs.len()
        )),
        Config::Add | Config::Merge(_) => {
            for other in rest {
                if other.shape != first.shape {
                    return Err(format!(
                        "{layer}: {} is {} but {} is {}; {layer} needs equal shapes",
                        first.label,
                        show(first.shape),
                        other.label,
                        show(other.shape)
                    ));
                }
            }
            Ok(first.shape.to_vec())
        }
        _ => {
            let rank = first.shape.len();
            let mut channels = *first.shape.last().unwrap_or(&0);
            for other in rest {
                if other.shape.len() != rank || other.shape[..rank - 1] != first.shape[..rank - 1] {
                    return Err(format!(
                        "{layer}: {} is {} but {} is {}; concat joins the last axis, so all other axes must match",
                        first.label,
                        show(first.shape),
                        other.label,
                        show(other.shape)
                    ));
                }
                channels = channels.saturating_add(other.shape[rank - 1]);
            }
            let mut out = first.shape.to_vec();
            out[rank - 1] = channels;
            Ok(out)
        }
    }
}

/// Trainable and non-trainable parameter counts of a layer with this input
/// shape, or `None` if they overflow.
pub fn checked_param_counts(config: &Config, input: &[usize]) -> Option<(usize, usize)> {
    let last = input.last().copied().unwrap_or(0);
    let weights_plus_bias = |weights: Option<usize>, units: usize, use_bias: bool| {
        weights?.checked_add(if use_bias { units } else { 0 })
    };
    Some(match config {
        Config::Conv2D {
            filters,
            kernel,
            use_bias,
            ..
        } => {
            let weights = kernel
                .0
                .checked_mul(kernel.1)
                .and_then(|k| k.checked_mul(last))
                .and_then(|k| k.checked_mul(*filters));
            (weights_plus_bias(weights, *filters, *use_bias)?, 0)
        }
        Config::Dense { units, use_bias, .. } => {
            (weights_plus_bias(last.checked_mul(*units), *units, *use_bias)?, 0)
        }
        Config::BatchNorm { .. } => (last.checked_mul(2)?, last.checked_mul(2)?),
        _ => (0, 0),
    })
}

/// Parameter counts of a layer the graph has already checked (see
/// [`checked_param_counts`]; every layer in a built graph is in range).
pub fn param_counts(config: &Config, input: &[usize]) -> (usize, usize) {
    checked_param_counts(config, input).unwrap_or((0, 0))
}

/// Most multiply-adds (or window reads) one layer may do per sample: 2^40,
/// hundreds of times the largest layer of VGG or ResNet, and far below
/// what would keep a forward pass from finishing.
pub const MAX_WORK: u64 = 1 << 40;

/// Multiply-adds (or window reads) per sample of a layer taking `input` and
/// producing `output`, saturating on overflow.
pub fn work(config: &Config, input: &[usize], output: &[usize]) -> u64 {
    let product = |dims: &[usize]| dims.iter().fold(1u64, |acc, &d| acc.saturating_mul(d as u64));
    let out = product(output);
    let last = input.last().copied().unwrap_or(0) as u64;
    match config {
        Config::Conv2D { kernel, .. } => out
            .saturating_mul(kernel.0 as u64)
            .saturating_mul(kernel.1 as u64)
            .saturating_mul(last),
        Config::Pool { size, .. } => out.saturating_mul(size.0 as u64).saturating_mul(size.1 as u64),
        Config::Dense { .. } => out.saturating_mul(last),
        _ => product(input).max(out),
    }
}
