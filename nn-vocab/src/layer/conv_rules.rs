//! Rules the convolution family shares: the geometry of a dilated window
//! along each spatial axis, Keras's argument checks, and kernel fans.

use crate::argument::ArgumentError;
use crate::conv_axis::ConvAxis;
use crate::padding::Padding;
use crate::shape::Operand;

/// The height and width axes of a (dilated) kernel over `[h, w]`, or the
/// message that it does not fit a `valid` input.
pub(crate) fn image_axes(
    layer: &str,
    x: &Operand,
    (h, w): (usize, usize),
    kernel: [usize; 2],
    strides: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
) -> Result<[ConvAxis; 2], String> {
    match (
        ConvAxis::new(h, kernel[0], strides[0], dilation[0], padding),
        ConvAxis::new(w, kernel[1], strides[1], dilation[1], padding),
    ) {
        (Some(rows), Some(cols)) => Ok([rows, cols]),
        _ => Err(format!(
            "{layer}: the {}x{} kernel{} is larger than {} ({h}x{w} spatially) with padding = valid; \
             use a smaller kernel or padding = same",
            kernel[0],
            kernel[1],
            dilated(kernel, dilation),
            x.label,
        )),
    }
}

/// The height and width axes of a kernel over `input = [h, w, ..]`; `None`
/// when it does not fit a `valid` input.
pub(crate) fn axes_of(
    input: &[usize],
    kernel: [usize; 2],
    strides: [usize; 2],
    dilation: [usize; 2],
    padding: Padding,
) -> Option<[ConvAxis; 2]> {
    let axis = |i: usize| ConvAxis::new(*input.get(i)?, kernel[i], strides[i], dilation[i], padding);
    Some([axis(0)?, axis(1)?])
}

/// ` (dilated to 5x5)` when a dilation rate is above 1.
pub(crate) fn dilated(kernel: [usize; 2], dilation: [usize; 2]) -> String {
    if dilation == [1, 1] {
        return String::new();
    }
    let span = |k: usize, d: usize| k.saturating_sub(1).saturating_mul(d).saturating_add(1);
    format!(
        " (dilated to {}x{})",
        span(kernel[0], dilation[0]),
        span(kernel[1], dilation[1])
    )
}

/// Keras refuses strides and dilation rates both above 1 in Conv1D,
/// Conv2D and Conv2DTranspose.
pub(crate) fn strides_or_dilation(
    class: &str,
    strides: &[usize],
    dilation: &[usize],
) -> Result<(), ArgumentError> {
    let above_one = |v: &[usize]| v.iter().any(|&s| s > 1);
    if above_one(strides) && above_one(dilation) {
        return Err(ArgumentError::at(
            "dilation_rate",
            format!(
                "{class}: `strides` > 1 cannot be combined with `dilation_rate` > 1 (as in Keras); got strides {strides:?} and dilation_rate {dilation:?}"
            ),
        ));
    }
    Ok(())
}

/// Keras's check at construction: the groups split the filters evenly.
pub(crate) fn groups_divide_filters(class: &str, filters: usize, groups: usize) -> Result<(), ArgumentError> {
    if !filters.is_multiple_of(groups) {
        return Err(ArgumentError::at(
            "groups",
            format!("{class}: `groups` must divide `filters` evenly (as in Keras); {filters} filters in {groups} groups"),
        ));
    }
    Ok(())
}

/// Keras's check when the input is known: the groups split its channels
/// evenly.
pub(crate) fn groups_divide_channels(
    layer: &str,
    x: &Operand,
    channels: usize,
    groups: usize,
) -> Result<(), String> {
    if !channels.is_multiple_of(groups) {
        return Err(format!(
            "{layer}: {groups} groups must divide the input's channels evenly, but {} has {channels}",
            x.label
        ));
    }
    Ok(())
}

/// Keras's fans of a kernel: the receptive field (all but the last two
/// dimensions) times the second-to-last and the last dimension.
pub(crate) fn kernel_fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [field @ .., fan_in, fan_out] => {
            let field = field.iter().fold(1usize, |a, &d| a.saturating_mul(d));
            (field.saturating_mul(*fan_in), field.saturating_mul(*fan_out))
        }
        _ => (0, 0),
    }
}
