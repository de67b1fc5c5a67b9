//! Activations: forward against closed forms, backward against finite
//! differences on inputs kept away from kinks.

mod common;

use common::*;
use nn_runtime::activation::{backward, backward_from_input, backward_in_place_from_input, forward};
use nn_runtime::Activation;

const WIDTH: usize = 5;

fn inputs() -> Vec<f32> {
    // Away from relu's kink at 0 and relu6's at 6, by more than the FD step.
    let mut rng = rng(5);
    random_vec(&mut rng, 4 * WIDTH)
        .into_iter()
        .map(|v| {
            let v = v * 8.0;
            // ... and from hard_sigmoid's at ±3.
            if v.abs() < 0.1 || (v - 6.0).abs() < 0.1 || (v.abs() - 3.0).abs() < 0.1 {
                v + 0.3
            } else {
                v
            }
        })
        .collect()
}

fn reference(act: Activation, x: &[f32]) -> Vec<f32> {
    match act {
        Activation::Softmax => x
            .chunks(WIDTH)
            .flat_map(|row| {
                let s: f64 = row.iter().map(|&v| (v as f64).exp()).sum();
                row.iter()
                    .map(move |&v| ((v as f64).exp() / s) as f32)
                    .collect::<Vec<_>>()
            })
            .collect(),
        _ => x
            .iter()
            .map(|&v| match act {
                Activation::Linear => v,
                Activation::Relu => {
                    if v > 0.0 {
                        v
                    } else {
                        0.0
                    }
                }
                Activation::Relu6 => v.clamp(0.0, 6.0),
                Activation::LeakyRelu(a) => {
                    if v > 0.0 {
                        v
                    } else {
                        a * v
                    }
                }
                Activation::Sigmoid => (1.0 / (1.0 + (-(v as f64)).exp())) as f32,
                Activation::Tanh => (v as f64).tanh() as f32,
                Activation::Elu => {
                    if v > 0.0 {
                        v
                    } else {
                        ((v as f64).exp() - 1.0) as f32
                    }
                }
                Activation::Selu => {
                    // Klambauer et al.'s constants, written out independently.
                    let (scale, alpha) = (1.0507009873554805_f64, 1.6732632423543772_f64);
                    let v = v as f64;
                    (scale * if v > 0.0 { v } else { alpha * (v.exp() - 1.0) }) as f32
                }
                Activation::Softplus => (1.0 + (v as f64).exp()).ln() as f32,
                Activation::HardSigmoid => {
                    let v = v as f64;
                    (if v <= -3.0 {
                        0.0
                    } else if v >= 3.0 {
                        1.0
                    } else {
                        v / 6.0 + 0.5
                    }) as f32
                }
                Activation::ReluWith {
                    negative_slope,
                    max_value,
                    threshold,
                } => {
                    if v >= max_value {
                        max_value
                    } else if v >= threshold {
                        v
                    } else {
                        negative_slope * (v - threshold)
                    }
                }
                Activation::Gelu => {
                    let v = v as f64;
                    (v * 0.5 * (1.0 + erf_by_quadrature(v / std::f64::consts::SQRT_2))) as f32
                }
                Activation::Swish => {
                    let v = v as f64;
                    (v / (1.0 + (-v).exp())) as f32
                }
                Activation::Softmax => unreachable!(),
            })
            .collect(),
    }
}

/// `erf(z) = 2/√π ∫₀^z e^{-t²} dt` by composite Simpson's rule in double
/// precision: slow, obviously right, and independent of the kernel's
/// rational approximation.
fn erf_by_quadrature(z: f64) -> f64 {
    const STEPS: usize = 4000;
    let h = z / STEPS as f64;
    let f = |t: f64| (-t * t).exp();
    let mut sum = f(0.0) + f(z);
    for i in 1..STEPS {
        sum += f(i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    sum * h / 3.0 * 2.0 / std::f64::consts::PI.sqrt()
}

fn run(act: Activation) {
    run_on(act, inputs());
}

fn run_on(act: Activation, x: Vec<f32>) {
    let mut y = vec![0.0; x.len()];
    forward(act, &x, &mut y, WIDTH).unwrap();
    assert_close(act.name(), &y, &reference(act, &x), 1e-5);

    let r = random_vec(&mut rng(9), x.len());
    let mut dx = vec![0.0; x.len()];
    backward(act, &y, &r, &mut dx, WIDTH).unwrap();
    let mut out = vec![0.0; x.len()];
    check_gradient(act.name(), &x, &dx, |p| {
        forward(act, p, &mut out, WIDTH).unwrap();
        dot(&out, &r)
    });

    // The fused, in-place form agrees with the standalone one.
    let mut dz = r.clone();
    nn_runtime::activation::backward_in_place(act, &y, &mut dz, WIDTH).unwrap();
    assert_close("in-place backward", &dz, &dx, 1e-6);
}

#[test]
fn activation_linear() {
    run(Activation::Linear);
}

#[test]
fn activation_relu() {
    run(Activation::Relu);
}

#[test]
fn activation_relu6() {
    run(Activation::Relu6);
}

#[test]
fn activation_leaky_relu() {
    run(Activation::LeakyRelu(0.3));
}

#[test]
fn activation_sigmoid() {
    run(Activation::Sigmoid);
}

#[test]
fn activation_tanh() {
    run(Activation::Tanh);
}

#[test]
fn activation_softmax_last_axis() {
    run(Activation::Softmax);
}

#[test]
fn activation_elu() {
    run(Activation::Elu);
}

#[test]
fn activation_selu() {
    run(Activation::Selu);
}

#[test]
fn activation_softplus() {
    run(Activation::Softplus);
}

#[test]
fn activation_hard_sigmoid() {
    run(Activation::HardSigmoid);
}

/// Keras's `ReLU(max_value, negative_slope, threshold)` on inputs kept away
/// from its kinks (threshold, max_value) by more than the step.
fn run_relu_with(negative_slope: f32, max_value: f32, threshold: f32) {
    let act = Activation::ReluWith {
        negative_slope,
        max_value,
        threshold,
    };
    let x = inputs()
        .into_iter()
        .map(|v| {
            if (v - threshold).abs() < 0.1 || (v - max_value).abs() < 0.1 {
                v + 0.3
            } else {
                v
            }
        })
        .collect();
    run_on(act, x);
}

#[test]
fn relu_layer_with_slope_threshold_and_maximum() {
    run_relu_with(0.2, 5.0, 1.0);
}

#[test]
fn relu_layer_with_threshold_and_no_slope() {
    run_relu_with(0.0, f32::INFINITY, 1.5);
}

#[test]
fn relu_layer_as_leaky_relu_capped() {
    run_relu_with(0.3, 6.0, 0.0);
}

#[test]
fn leaky_relu_with_zero_slope_is_relu() {
    run(Activation::LeakyRelu(0.0));
}

#[test]
fn softplus_is_stable_and_exact_at_the_extremes() {
    let x = [-100.0f32, -20.0, 0.0, 20.0, 100.0];
    let mut y = vec![0.0; 5];
    forward(Activation::Softplus, &x, &mut y, 5).unwrap();
    let expected: Vec<f32> = x.iter().map(|&v| (1.0 + (v as f64).exp()).ln() as f32).collect();
    assert_close("softplus of large values", &y, &expected, 1e-6);
    // The derivative (sigmoid) recovered from tiny outputs stays relative-exact.
    let mut dx = vec![0.0; 5];
    backward(Activation::Softplus, &y, &[1.0; 5], &mut dx, 5).unwrap();
    let sigmoid: Vec<f32> = x
        .iter()
        .map(|&v| (1.0 / (1.0 + (-(v as f64)).exp())) as f32)
        .collect();
    assert_close("softplus derivative", &dx, &sigmoid, 1e-5);
    assert!(dx[0] > 0.0, "e^-100 is not rounded to 0: {dx:?}");
}

#[test]
fn softmax_is_stable_for_large_inputs() {
    let mut y = vec![0.0; 3];
    forward(Activation::Softmax, &[1000.0, 1000.0, -1000.0], &mut y, 3).unwrap();
    assert_close("softmax of large values", &y, &[0.5, 0.5, 0.0], 1e-6);
    forward(Activation::Sigmoid, &[-1000.0, 1000.0, 0.0], &mut y, 3).unwrap();
    assert_close("sigmoid of large values", &y, &[0.0, 1.0, 0.5], 1e-6);
}

#[test]
fn activation_rejects_bad_arguments() {
    let mut y = vec![0.0; 4];
    let err = forward(Activation::Softmax, &[0.0; 4], &mut y, 3).unwrap_err();
    assert!(err.to_string().contains("expected 3"), "{err}");
    let err = forward(Activation::LeakyRelu(-1.0), &[0.0; 4], &mut y, 4).unwrap_err();
    assert!(err.to_string().contains("alpha must be ≥ 0, got -1"), "{err}");
    let bad_relu = Activation::ReluWith {
        negative_slope: 0.1,
        max_value: 1.0,
        threshold: 2.0,
    };
    let err = forward(bad_relu, &[0.0; 4], &mut y, 4).unwrap_err();
    assert!(err.to_string().contains("max_value > threshold"), "{err}");
    let err = forward(Activation::Relu, &[0.0; 4], &mut y, 0).unwrap_err();
    assert!(err.to_string().contains("width is zero"), "{err}");
}

/// gelu and swish: forward against the closed forms (erf by quadrature),
/// backward from the pre-activation against finite differences, and the
/// output-based paths refuse them with a message naming the right call.
fn run_needing_input(act: Activation) {
    assert!(act.derivative_needs_input());
    let x = inputs();
    let mut y = vec![0.0; x.len()];
    forward(act, &x, &mut y, WIDTH).unwrap();
    assert_close(act.name(), &y, &reference(act, &x), 1e-5);
    // In place (the fused form a dense or convolution layer runs) agrees.
    let mut in_place = x.clone();
    nn_runtime::activation::forward_in_place(act, &mut in_place, WIDTH).unwrap();
    assert_close("in-place forward", &in_place, &y, 0.0);

    let r = random_vec(&mut rng(9), x.len());
    let mut dx = vec![0.0; x.len()];
    backward_from_input(act, &x, &r, &mut dx, WIDTH).unwrap();
    let mut out = vec![0.0; x.len()];
    check_gradient(act.name(), &x, &dx, |p| {
        forward(act, p, &mut out, WIDTH).unwrap();
        dot(&out, &r)
    });

    // The fused form (a dense or convolution layer that kept its
    // pre-activation) agrees with the standalone one.
    let mut dz = r.clone();
    backward_in_place_from_input(act, &x, &mut dz, WIDTH).unwrap();
    assert_close("in-place backward from the input", &dz, &dx, 1e-6);

    let err = backward(act, &y, &r, &mut dx, WIDTH).unwrap_err();
    assert!(err.to_string().contains("backward_from_input"), "{err}");
    let err = nn_runtime::activation::backward_in_place(act, &y, &mut dx, WIDTH).unwrap_err();
    assert!(
        err.to_string().contains("cannot be computed from its output"),
        "{err}"
    );
}

#[test]
fn activation_gelu() {
    run_needing_input(Activation::Gelu);
}

#[test]
fn activation_swish() {
    run_needing_input(Activation::Swish);
}

#[test]
fn gelu_and_silu_match_keras_including_the_far_tail() {
    use keras::*;
    for (act, expected) in [(Activation::Gelu, &GELU), (Activation::Swish, &SILU)] {
        let mut y = vec![0.0; ACTIVATION_INPUTS.len()];
        forward(act, &ACTIVATION_INPUTS, &mut y, 1).unwrap();
        assert_close(act.name(), &y, expected, 1e-6);
    }
    // gelu(-8) ≈ -5e-15: computed through erfc, so it keeps its relative
    // precision instead of becoming 0 or rounding noise. (Keras's value is
    // the exact form's; the tanh approximation gives -0.0 here and
    // -3.637e-3 instead of -4.050e-3 at -3.)
    let mut y = [0.0];
    forward(Activation::Gelu, &[-8.0], &mut y, 1).unwrap();
    assert!((y[0] / GELU[0] - 1.0).abs() < 1e-4, "{} vs {}", y[0], GELU[0]);
}

#[test]
fn backward_from_input_refuses_output_differentiated_activations() {
    let mut dx = [0.0; 2];
    let err = backward_from_input(Activation::Relu, &[1.0, 2.0], &[1.0, 1.0], &mut dx, 2).unwrap_err();
    assert!(err.to_string().contains("call activation::backward"), "{err}");
}

#[allow(dead_code, clippy::all)]
mod keras {
    include!("fixtures/keras_shape_layers.rs");
}

/// Rows of `WIDTH` spaced `stride` apart (a convolution's channels inside a
/// concatenation) get exactly what contiguous rows get, and the floats
/// between rows are not touched, forward and backward, for every
/// activation differentiated from its output.
#[test]
fn strided_rows_match_contiguous_rows() {
    use nn_runtime::activation::{backward_in_place, backward_rows, forward_in_place, forward_rows};
    let acts = [
        Activation::Linear,
        Activation::Relu,
        Activation::Relu6,
        Activation::LeakyRelu(0.2),
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Softmax,
        Activation::Elu,
        Activation::Selu,
        Activation::Softplus,
        Activation::HardSigmoid,
        Activation::ReluWith {
            negative_slope: 0.1,
            max_value: 5.0,
            threshold: 0.5,
        },
    ];
    let x = inputs();
    let rows = x.len() / WIDTH;
    let mut rng = rng(9);
    let dy = random_vec(&mut rng, x.len());
    for stride in [WIDTH, WIDTH + 3] {
        // Strided copies; NaN marks the gaps, which must stay NaN.
        let spread = |v: &[f32]| {
            let mut out = vec![f32::NAN; (rows - 1) * stride + WIDTH];
            for (r, row) in v.chunks(WIDTH).enumerate() {
                out[r * stride..r * stride + WIDTH].copy_from_slice(row);
            }
            out
        };
        let gather = |v: &[f32]| -> Vec<f32> {
            (0..rows)
                .flat_map(|r| v[r * stride..r * stride + WIDTH].to_vec())
                .collect()
        };
        let gaps_untouched = |v: &[f32]| {
            v.iter()
                .enumerate()
                .all(|(i, f)| i % stride < WIDTH || f.is_nan())
        };
        for act in acts {
            let mut y = x.clone();
            forward_in_place(act, &mut y, WIDTH).unwrap();
            let mut strided = spread(&x);
            forward_rows(act, &mut strided, WIDTH, stride).unwrap();
            assert_eq!(gather(&strided), y, "{act:?} forward, stride {stride}");
            assert!(gaps_untouched(&strided), "{act:?} forward wrote a gap");

            let mut dz = dy.clone();
            backward_in_place(act, &y, &mut dz, WIDTH).unwrap();
            let mut strided_dz = spread(&dy);
            backward_rows(act, &spread(&y), &mut strided_dz, WIDTH, stride).unwrap();
            assert_eq!(gather(&strided_dz), dz, "{act:?} backward, stride {stride}");
            assert!(gaps_untouched(&strided_dz), "{act:?} backward wrote a gap");
            // And the contiguous backward is the pre-activation gradient
            // (checked against finite differences by the tests above):
            // dz = act'(y) * dy is not all equal to dy unless linear.
            if act == Activation::Linear {
                assert_eq!(dz, dy);
            } else {
                assert_ne!(dz, dy, "{act:?} backward left dy unchanged");
            }
        }
    }
}
