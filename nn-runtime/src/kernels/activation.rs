//! Element-wise activations, fused into the layer that produces the values or
//! used standalone (Keras's `Activation` layer).
//!
//! Most derivatives are computed from the activation's *output* `y`, so a
//! layer needs to keep only its output for backward, not its pre-activation.
//! `gelu` and `swish` are not monotonic, so their output does not determine
//! their input: their derivative needs the pre-activation `x`
//! ([`Activation::derivative_needs_input`], [`backward_from_input`]). A layer
//! with such an activation keeps its pre-activation as a tensor of its own
//! and applies the activation as a separate step; the fused backward paths
//! refuse them with an error naming the function to call instead.

use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::threads::{self, SharedSlice};

pub use nn_vocab::Activation;

/// SELU's scale and alpha, as Keras defines them.
pub const SELU_SCALE: f32 = 1.050_701;
pub const SELU_ALPHA: f32 = 1.673_263_2;

/// Refuses activations whose derivative cannot be read off the output
/// ([`Activation::derivative_needs_input`]).
fn check_output_derivative(act: Activation, kernel: &'static str) -> Result<(), KernelError> {
    if act.derivative_needs_input() {
        return Err(KernelError::InvalidArgument {
            kernel,
            message: format!(
                "the derivative of {} cannot be computed from its output; keep the pre-activation \
                 and call activation::backward_from_input",
                act.name()
            ),
        });
    }
    Ok(())
}

/// Refuses parameters whose derivative could not be read off the output.
fn check(act: Activation, kernel: &'static str, width: usize) -> Result<(), KernelError> {
    expect_nonzero(kernel, "last-axis width", width)?;
    if let Activation::LeakyRelu(alpha) = act {
        if alpha.is_nan() || alpha < 0.0 {
            return Err(KernelError::InvalidArgument {
                kernel,
                message: format!("leaky relu alpha must be ≥ 0, got {alpha}"),
            });
        }
    }
    if let Activation::ReluWith {
        negative_slope,
        max_value,
        threshold,
    } = act
    {
        // NaN fails every comparison, so it is refused too.
        let fine = negative_slope >= 0.0 && threshold >= 0.0 && max_value > threshold;
        if !fine {
            return Err(KernelError::InvalidArgument {
                kernel,
                message: format!(
                    "relu needs negative_slope ≥ 0, threshold ≥ 0 and max_value > threshold, got \
                         negative_slope {negative_slope}, threshold {threshold}, max_value {max_value}"
                ),
            });
        }
    }
    Ok(())
}

/// Applies `act` in place. `width` is the length of the last axis (softmax
/// normalises each row of that length); `values.len()` must be a multiple of
/// it. Large tensors are split over the kernel threads by rows.
pub fn forward_in_place(act: Activation, values: &mut [f32], width: usize) -> Result<(), KernelError> {
    check(act, "activation", width)?;
    expect_len("activation", "values", values, values.len() / width * width)?;
    if act != Activation::Linear {
        threads::for_chunks_mut(values, width, &|chunk| apply(act, chunk, width));
    }
    Ok(())
}

fn apply(act: Activation, values: &mut [f32], width: usize) {
    match act {
        Activation::Linear => {}
        // A comparison rather than f32::max so NaN propagates (f32::max would
        // silently turn a NaN into 0 and hide bad data); clamp keeps NaN.
        Activation::Relu => values
            .iter_mut()
            .for_each(|v| *v = if *v < 0.0 { 0.0 } else { *v }),
        Activation::Relu6 => values.iter_mut().for_each(|v| *v = v.clamp(0.0, 6.0)),
        Activation::LeakyRelu(alpha) => values
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { alpha * *v }),
        Activation::Sigmoid => values.iter_mut().for_each(|v| *v = sigmoid(*v)),
        Activation::Tanh => values.iter_mut().for_each(|v| *v = v.tanh()),
        Activation::Softmax => values.chunks_exact_mut(width).for_each(softmax_row),
        Activation::Elu => values
            .iter_mut()
            .for_each(|v| *v = if *v > 0.0 { *v } else { v.exp_m1() }),
        Activation::Selu => values
            .iter_mut()
            .for_each(|v| *v = SELU_SCALE * if *v > 0.0 { *v } else { SELU_ALPHA * v.exp_m1() }),
        // max(x, 0) + ln(1 + e^-|x|): no overflow, exact far from 0.
        Activation::Softplus => values
            .iter_mut()
            .for_each(|v| *v = v.max(0.0) + (-v.abs()).exp().ln_1p()),
        Activation::HardSigmoid => values
            .iter_mut()
            .for_each(|v| *v = (*v + 3.0).clamp(0.0, 6.0) / 6.0),
        Activation::ReluWith {
            negative_slope,
            max_value,
            threshold,
        } => values.iter_mut().for_each(|v| {
            *v = if *v >= max_value {
                max_value
            } else if *v >= threshold || v.is_nan() {
                *v
            } else {
                negative_slope * (*v - threshold)
            }
        }),
        Activation::Gelu => values.iter_mut().for_each(|v| *v = gelu(*v)),
        Activation::Swish => values.iter_mut().for_each(|v| *v = *v * sigmoid(*v)),
    }
}

/// Applies `act` in place to rows of `width` floats spaced `stride` apart
/// (a convolution's channels inside a concatenated tensor). Serial: called
/// from inside parallel kernels.
pub fn forward_rows(
    act: Activation,
    values: &mut [f32],
    width: usize,
    stride: usize,
) -> Result<(), KernelError> {
    check(act, "activation", width)?;
    if act == Activation::Linear {
        return Ok(());
    }
    if stride == width {
        apply(act, values, width);
        return Ok(());
    }
    for start in (0..values.len()).step_by(stride) {
        let end = (start + width).min(values.len());
        apply(act, &mut values[start..end], width);
    }
    Ok(())
}

/// Fused backward on rows of `width` spaced `stride` apart: `dy` becomes the
/// pre-activation gradient where it lies. Serial, like [`forward_rows`].
pub fn backward_rows(
    act: Activation,
    y: &[f32],
    dy: &mut [f32],
    width: usize,
    stride: usize,
) -> Result<(), KernelError> {
    check(act, "activation backward", width)?;
    check_output_derivative(act, "activation backward")?;
    expect_len("activation backward", "dy", dy, y.len())?;
    if act == Activation::Linear {
        return Ok(());
    }
    if stride == width {
        turn_into_preactivation(act, y, dy, width);
        return Ok(());
    }
    for start in (0..y.len()).step_by(stride) {
        let end = (start + width).min(y.len());
        turn_into_preactivation(act, &y[start..end], &mut dy[start..end], width);
    }
    Ok(())
}

/// Standalone forward: `y = act(x)`.
pub fn forward(act: Activation, x: &[f32], y: &mut [f32], width: usize) -> Result<(), KernelError> {
    expect_len("activation", "y", y, x.len())?;
    check(act, "activation", width)?;
    expect_len("activation", "x", x, x.len() / width * width)?;
    let out = SharedSlice::new(y);
    threads::for_ranges(x.len(), width, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let y = unsafe { out.range(range.clone()) };
        y.copy_from_slice(&x[range]);
        apply(act, y, width);
    });
    Ok(())
}

/// Fused backward: turns the gradient of the output `dy` into the gradient of
/// the pre-activation, in place, given the output `y`.
pub fn backward_in_place(
    act: Activation,
    y: &[f32],
    dy: &mut [f32],
    width: usize,
) -> Result<(), KernelError> {
    check(act, "activation backward", width)?;
    check_output_derivative(act, "activation backward")?;
    expect_len("activation backward", "dy", dy, y.len())?;
    expect_len("activation backward", "y", y, y.len() / width * width)?;
    if act == Activation::Linear {
        return Ok(());
    }
    let grads = SharedSlice::new(dy);
    threads::for_ranges(y.len(), width, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dy = unsafe { grads.range(range.clone()) };
        turn_into_preactivation(act, &y[range], dy, width);
    });
    Ok(())
}

/// Standalone backward: `dx += act'(.) * dy`, leaving `dy` untouched.
pub fn backward(
    act: Activation,
    y: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    width: usize,
) -> Result<(), KernelError> {
    check(act, "activation backward", width)?;
    check_output_derivative(act, "activation backward")?;
    expect_len("activation backward", "dy", dy, y.len())?;
    expect_len("activation backward", "dx", dx, y.len())?;
    expect_len("activation backward", "y", y, y.len() / width * width)?;
    let grads = SharedSlice::new(dx);
    threads::for_ranges(y.len(), width, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dx = unsafe { grads.range(range.clone()) };
        let (y, dy) = (&y[range.clone()], &dy[range]);
        match act {
            Activation::Softmax => {
                for ((yr, dr), xr) in y
                    .chunks_exact(width)
                    .zip(dy.chunks_exact(width))
                    .zip(dx.chunks_exact_mut(width))
                {
                    let dot: f32 = yr.iter().zip(dr).map(|(a, b)| a * b).sum();
                    for ((x, &yv), &d) in xr.iter_mut().zip(yr).zip(dr) {
                        *x += yv * (d - dot);
                    }
                }
            }
            _ => {
                for ((x, &yv), &d) in dx.iter_mut().zip(y).zip(dy) {
                    *x += d * derivative_from_output(act, yv);
                }
            }
        }
    });
    Ok(())
}

/// Fused backward from the pre-activation `x` (kept by the layer for the
/// activations whose derivative needs it): `dy *= act'(x)` in place, so
/// `dy` becomes the pre-activation gradient as in [`backward_in_place`].
pub fn backward_in_place_from_input(
    act: Activation,
    x: &[f32],
    dy: &mut [f32],
    width: usize,
) -> Result<(), KernelError> {
    const NAME: &str = "activation backward";
    check(act, NAME, width)?;
    let derivative = input_derivative(act, NAME)?;
    expect_len(NAME, "dy", dy, x.len())?;
    expect_len(NAME, "x", x, x.len() / width * width)?;
    let grads = SharedSlice::new(dy);
    threads::for_ranges(x.len(), width, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dy = unsafe { grads.range(range.clone()) };
        dy.iter_mut()
            .zip(&x[range])
            .for_each(|(d, &v)| *d *= derivative(v));
    });
    Ok(())
}

/// The derivative as a function of the pre-activation, for the activations
/// that need it.
fn input_derivative(act: Activation, kernel: &'static str) -> Result<fn(f32) -> f32, KernelError> {
    match act {
        Activation::Gelu => Ok(gelu_derivative),
        Activation::Swish => Ok(swish_derivative),
        _ => Err(KernelError::InvalidArgument {
            kernel,
            message: format!(
                "{} is differentiated from its output; call activation::backward",
                act.name()
            ),
        }),
    }
}

/// Standalone backward from the pre-activation `x`: `dx += act'(x) * dy`,
/// for the activations whose derivative needs it
/// ([`Activation::derivative_needs_input`]).
pub fn backward_from_input(
    act: Activation,
    x: &[f32],
    dy: &[f32],
    dx: &mut [f32],
    width: usize,
) -> Result<(), KernelError> {
    const NAME: &str = "activation backward";
    check(act, NAME, width)?;
    let derivative = input_derivative(act, NAME)?;
    expect_len(NAME, "dy", dy, x.len())?;
    expect_len(NAME, "dx", dx, x.len())?;
    expect_len(NAME, "x", x, x.len() / width * width)?;
    let grads = SharedSlice::new(dx);
    threads::for_ranges(x.len(), width, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges.
        let dx = unsafe { grads.range(range.clone()) };
        for ((d, &v), &g) in dx.iter_mut().zip(&x[range.clone()]).zip(&dy[range]) {
            *d += g * derivative(v);
        }
    });
    Ok(())
}

/// `dy` (gradient of the output `y`, whole rows of `width`) becomes the
/// gradient of the pre-activation, in place.
fn turn_into_preactivation(act: Activation, y: &[f32], dy: &mut [f32], width: usize) {
    match act {
        Activation::Linear => {}
        Activation::Softmax => {
            for (yr, dr) in y.chunks_exact(width).zip(dy.chunks_exact_mut(width)) {
                let dot: f32 = yr.iter().zip(dr.iter()).map(|(a, b)| a * b).sum();
                dr.iter_mut().zip(yr).for_each(|(d, &yv)| *d = yv * (*d - dot));
            }
        }
        // One loop per activation (not a match per element) so each
        // vectorises.
        Activation::Relu => scale_by(y, dy, |v| derivative_from_output(Activation::Relu, v)),
        Activation::Relu6 => scale_by(y, dy, |v| derivative_from_output(Activation::Relu6, v)),
        Activation::LeakyRelu(a) => scale_by(y, dy, |v| derivative_from_output(Activation::LeakyRelu(a), v)),
        Activation::Sigmoid => scale_by(y, dy, |v| derivative_from_output(Activation::Sigmoid, v)),
        Activation::Tanh => scale_by(y, dy, |v| derivative_from_output(Activation::Tanh, v)),
        Activation::Elu => scale_by(y, dy, |v| derivative_from_output(Activation::Elu, v)),
        Activation::Selu => scale_by(y, dy, |v| derivative_from_output(Activation::Selu, v)),
        Activation::Softplus => scale_by(y, dy, |v| derivative_from_output(Activation::Softplus, v)),
        Activation::HardSigmoid => scale_by(y, dy, |v| derivative_from_output(Activation::HardSigmoid, v)),
        relu @ Activation::ReluWith { .. } => scale_by(y, dy, |v| derivative_from_output(relu, v)),
        // Refused by `check_output_derivative` before any caller gets here.
        Activation::Gelu | Activation::Swish => unreachable!("{} needs its input", act.name()),
    }
}

#[inline(always)]
fn scale_by(y: &[f32], dy: &mut [f32], derivative: impl Fn(f32) -> f32) {
    dy.iter_mut().zip(y).for_each(|(d, &v)| *d *= derivative(v));
}

#[inline]
fn derivative_from_output(act: Activation, y: f32) -> f32 {
    match act {
        Activation::Linear | Activation::Softmax => 1.0,
        // Refused by `check_output_derivative` before any caller gets here.
        Activation::Gelu | Activation::Swish => f32::NAN,
        Activation::Relu => (y > 0.0) as u8 as f32,
        Activation::Relu6 => (y > 0.0 && y < 6.0) as u8 as f32,
        Activation::LeakyRelu(alpha) => {
            if y > 0.0 {
                1.0
            } else {
                alpha
            }
        }
        Activation::Sigmoid => y * (1.0 - y),
        Activation::Tanh => 1.0 - y * y,
        // For x ≤ 0, y = e^x - 1, so e^x = y + 1.
        Activation::Elu => {
            if y > 0.0 {
                1.0
            } else {
                y + 1.0
            }
        }
        // For x ≤ 0, y = scale·alpha·(e^x - 1), so the derivative
        // scale·alpha·e^x is y + scale·alpha.
        Activation::Selu => {
            if y > 0.0 {
                SELU_SCALE
            } else {
                y + SELU_SCALE * SELU_ALPHA
            }
        }
        // sigmoid(x) = 1 - e^-y; expm1 keeps it exact for tiny y.
        Activation::Softplus => -(-y).exp_m1(),
        Activation::HardSigmoid => (y > 0.0 && y < 1.0) as u8 as f32 / 6.0,
        // Outputs: below 0 only from the sloped piece; 0 from the sloped
        // piece when the slope is 0 (or at x = threshold = 0, where the
        // derivative is taken as relu's, 0); at least `threshold` from the
        // identity; `max_value` from the flat top.
        Activation::ReluWith {
            negative_slope,
            max_value,
            threshold,
        } => {
            if y >= max_value {
                0.0
            } else if y < 0.0 || (y == 0.0 && threshold > 0.0) {
                negative_slope
            } else if y == 0.0 && negative_slope == 0.0 {
                0.0
            } else if y >= threshold {
                1.0
            } else {
                negative_slope
            }
        }
    }
}

#[inline]
fn sigmoid(x: f32) -> f32 {
    // Split by sign so exp never overflows.
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `x · Φ(x)`, with `Φ` evaluated in double precision.
#[inline]
fn gelu(x: f32) -> f32 {
    (x as f64 * normal_cdf(x as f64)) as f32
}

/// `Φ(x) + x · φ(x)`.
#[inline]
fn gelu_derivative(x: f32) -> f32 {
    let x = x as f64;
    let density = (-0.5 * x * x).exp() * FRAC_1_SQRT_2PI;
    (normal_cdf(x) + x * density) as f32
}

/// `s + x · s · (1 - s)` with `s = sigmoid(x)`.
#[inline]
fn swish_derivative(x: f32) -> f32 {
    let s = sigmoid(x);
    s + x * s * (1.0 - s)
}

const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// The standard normal CDF `Φ(x) = erfc(-x / √2) / 2`, through erfc so
/// the lower tail keeps its relative precision (gelu of a large negative
/// number is a tiny negative number, not 0 or noise).
#[inline]
fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * std::f64::consts::FRAC_1_SQRT_2)
}

/// The complementary error function, from the Chebyshev fit in Press et al.,
/// *Numerical Recipes* §6.2 (relative error below 1.2e-7 everywhere, under
/// f32's precision).
fn erfc(z: f64) -> f64 {
    let a = z.abs();
    let t = 1.0 / (1.0 + 0.5 * a);
    let poly = -a * a - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let tail = t * poly.exp();
    if z >= 0.0 {
        tail
    } else {
        2.0 - tail
    }
}

fn softmax_row(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
}
