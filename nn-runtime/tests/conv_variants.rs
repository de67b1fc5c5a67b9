//! The convolution family beyond plain Conv2D: dilated and grouped Conv2D,
//! DepthwiseConv2D, SeparableConv2D, Conv2DTranspose, Conv1D (with
//! `causal` padding) and 1-D pooling. Forward against direct loops written
//! here from Keras's definitions (independently of `conv_axis.rs`), every
//! gradient against central finite differences, on every micro-kernel path
//! this CPU supports and with the batch spread over two threads.

mod common;

use common::*;
use nn_runtime::gather::{self, Path};
use nn_runtime::threads;
use nn_runtime::{
    Activation, Conv2dTranspose, ConvAxis, GlobalAveragePool2d, GroupedConv2d, Padding, Pool2d, PoolKind,
    SeparableConv2d, Window2d, Workspace,
};

/// Keras's padding rule along one axis, from the TensorFlow definition:
/// `(output length, zeros before)`.
fn keras_axis(input: usize, k: usize, s: usize, d: usize, padding: &str) -> (usize, usize) {
    let span = (k - 1) * d + 1;
    match padding {
        "valid" => ((input - span) / s + 1, 0),
        "same" => {
            let out = input.div_ceil(s);
            (out, ((out - 1) * s + span).saturating_sub(input) / 2)
        }
        "causal" => ((input - 1) / s + 1, span - 1),
        _ => unreachable!(),
    }
}

fn axis(input: usize, k: usize, s: usize, d: usize, padding: &str) -> ConvAxis {
    let made = match padding {
        "valid" => ConvAxis::new(input, k, s, d, Padding::Valid),
        "same" => ConvAxis::new(input, k, s, d, Padding::Same),
        "causal" => ConvAxis::causal(input, k, s, d),
        _ => unreachable!(),
    }
    .unwrap();
    assert_eq!(
        (made.output, made.pad_before),
        keras_axis(input, k, s, d, padding),
        "{padding} axis in {input} k {k} s {s} d {d}"
    );
    made
}

/// A direct grouped, dilated convolution: `y[n, oy, ox, o] = b[o] + Σ
/// x[n, oy*s + ky*d - pad, .., g*cg + c] * k[ky, kx, c, o]`.
struct Direct {
    h: usize,
    w: usize,
    cin: usize,
    f: usize,
    groups: usize,
    k: (usize, usize),
    s: (usize, usize),
    d: (usize, usize),
    pad: (usize, usize),
    out: (usize, usize),
}

impl Direct {
    fn forward(&self, batch: usize, x: &[f32], kernel: &[f32], bias: &[f32]) -> Vec<f32> {
        let (cg, fg) = (self.cin / self.groups, self.f / self.groups);
        let (oh, ow) = self.out;
        let mut y = vec![0.0f32; batch * oh * ow * self.f];
        for n in 0..batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    for o in 0..self.f {
                        let g = o / fg;
                        let mut acc = bias[o] as f64;
                        for ky in 0..self.k.0 {
                            for kx in 0..self.k.1 {
                                let iy = (oy * self.s.0 + ky * self.d.0) as isize - self.pad.0 as isize;
                                let ix = (ox * self.s.1 + kx * self.d.1) as isize - self.pad.1 as isize;
                                if iy < 0 || ix < 0 || iy >= self.h as isize || ix >= self.w as isize {
                                    continue;
                                }
                                for c in 0..cg {
                                    let xv = x[((n * self.h + iy as usize) * self.w + ix as usize)
                                        * self.cin
                                        + g * cg
                                        + c];
                                    let kv = kernel[((ky * self.k.1 + kx) * cg + c) * self.f + o];
                                    acc += xv as f64 * kv as f64;
                                }
                            }
                        }
                        y[((n * oh + oy) * ow + ox) * self.f + o] = acc as f32;
                    }
                }
            }
        }
        y
    }
}

/// A layer under test: forward and backward over `x` and its parameters
/// (kernels then bias), with a linear activation.
trait Layer {
    fn in_len(&self) -> usize;
    fn out_len(&self) -> usize;
    fn param_lens(&self) -> Vec<usize>;
    fn forward(&self, batch: usize, x: &[f32], params: &[Vec<f32>], y: &mut [f32], ws: &mut Workspace);
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &self,
        batch: usize,
        x: &[f32],
        params: &[Vec<f32>],
        y: &[f32],
        dy: &mut [f32],
        dparams: &mut [Vec<f32>],
        dx: &mut [f32],
        ws: &mut Workspace,
    );
}

/// A direct forward: `(x, parameters) -> y`.
type Reference<'a> = dyn Fn(&[f32], &[Vec<f32>]) -> Vec<f32> + 'a;

/// Runs `check` on every micro-kernel path this CPU supports, then with two
/// kernel threads.
fn on_every_path(check: impl Fn()) {
    for path in [Path::Portable, Path::Avx2, Path::Avx512] {
        if gather::supported(path) {
            gather::force(Some(path));
            assert_eq!(gather::active(), path);
            check();
        }
    }
    gather::force(None);
    threads::set(2);
    check();
    threads::set(1);
}

/// Forward against `reference(x, params)`, and the gradients of
/// `loss = Σ y·r` for `x` and every parameter against finite differences.
fn check_layer(what: &str, layer: &dyn Layer, batch: usize, reference: &Reference) {
    let mut rng = rng(11);
    let x = random_vec(&mut rng, batch * layer.in_len());
    let params: Vec<Vec<f32>> = layer
        .param_lens()
        .iter()
        .map(|&n| random_vec(&mut rng, n))
        .collect();
    let mut ws = Workspace::new();
    let mut y = vec![f32::NAN; batch * layer.out_len()];
    layer.forward(batch, &x, &params, &mut y, &mut ws);
    assert_close(&format!("{what} forward"), &y, &reference(&x, &params), 1e-4);

    let r = random_vec(&mut rng, y.len());
    let mut dy = r.clone();
    // Gradients accumulate: start from a known offset and subtract it.
    let mut dparams: Vec<Vec<f32>> = params.iter().map(|p| vec![0.5; p.len()]).collect();
    let mut dx = vec![0.5; x.len()];
    layer.backward(batch, &x, &params, &y, &mut dy, &mut dparams, &mut dx, &mut ws);
    dx.iter_mut().for_each(|v| *v -= 0.5);
    dparams.iter_mut().flatten().for_each(|v| *v -= 0.5);

    let mut out = vec![0.0; y.len()];
    let mut ws2 = Workspace::new();
    let mut loss = |x: &[f32], params: &[Vec<f32>]| {
        layer.forward(batch, x, params, &mut out, &mut ws2);
        dot(&out, &r)
    };
    check_gradient(&format!("{what} dx"), &x, &dx, |p| loss(p, &params));
    for (i, dp) in dparams.iter().enumerate() {
        check_gradient(&format!("{what} d(param {i})"), &params[i], dp, |p| {
            let mut probe = params.clone();
            probe[i] = p.to_vec();
            loss(&x, &probe)
        });
    }
}

impl Layer for GroupedConv2d {
    fn in_len(&self) -> usize {
        GroupedConv2d::in_len(self)
    }
    fn out_len(&self) -> usize {
        GroupedConv2d::out_len(self)
    }
    fn param_lens(&self) -> Vec<usize> {
        vec![self.kernel_len(), self.filters]
    }
    fn forward(&self, batch: usize, x: &[f32], p: &[Vec<f32>], y: &mut [f32], ws: &mut Workspace) {
        GroupedConv2d::forward(self, batch, x, &p[0], Some(&p[1]), y, ws).unwrap();
    }
    fn backward(
        &self,
        batch: usize,
        x: &[f32],
        p: &[Vec<f32>],
        y: &[f32],
        dy: &mut [f32],
        dp: &mut [Vec<f32>],
        dx: &mut [f32],
        ws: &mut Workspace,
    ) {
        let (dk, db) = dp.split_at_mut(1);
        GroupedConv2d::backward(
            self,
            batch,
            x,
            &p[0],
            y,
            dy,
            &mut dk[0],
            Some(&mut db[0]),
            Some(dx),
            ws,
        )
        .unwrap();
    }
}

#[allow(clippy::too_many_arguments)]
fn grouped_case(
    batch: usize,
    (h, w, cin): (usize, usize, usize),
    f: usize,
    groups: usize,
    k: (usize, usize),
    s: (usize, usize),
    d: (usize, usize),
    padding: &str,
) {
    let rows = axis(h, k.0, s.0, d.0, padding);
    let cols = axis(w, k.1, s.1, d.1, padding);
    let conv = GroupedConv2d {
        rows,
        cols,
        in_channels: cin,
        filters: f,
        groups,
        activation: Activation::Linear,
    };
    let direct = Direct {
        h,
        w,
        cin,
        f,
        groups,
        k,
        s,
        d,
        pad: (rows.pad_before, cols.pad_before),
        out: (rows.output, cols.output),
    };
    on_every_path(|| {
        check_layer("grouped conv2d", &conv, batch, &|x, p| {
            direct.forward(batch, x, &p[0], &p[1])
        });
    });
    fused_activation_matches_composed(&conv, batch);
}

/// The activation fused into forward and backward equals the linear layer
/// followed by the activation.
fn fused_activation_matches_composed(linear: &GroupedConv2d, batch: usize) {
    let fused = GroupedConv2d {
        activation: Activation::Tanh,
        ..*linear
    };
    let mut rng = rng(5);
    let x = random_vec(&mut rng, batch * linear.in_len());
    let kernel = random_vec(&mut rng, linear.kernel_len());
    let mut ws = Workspace::new();
    let mut z = vec![0.0; batch * linear.out_len()];
    linear.forward(batch, &x, &kernel, None, &mut z, &mut ws).unwrap();
    let mut y = vec![0.0; z.len()];
    fused.forward(batch, &x, &kernel, None, &mut y, &mut ws).unwrap();
    let tanh: Vec<f32> = z.iter().map(|v| v.tanh()).collect();
    assert_close("fused tanh forward", &y, &tanh, 1e-5);
    let r = random_vec(&mut rng, y.len());
    let (mut dk_f, mut dx_f) = (vec![0.0; kernel.len()], vec![0.0; x.len()]);
    fused
        .backward(
            batch,
            &x,
            &kernel,
            &y,
            &mut r.clone(),
            &mut dk_f,
            None,
            Some(&mut dx_f),
            &mut ws,
        )
        .unwrap();
    let mut dz: Vec<f32> = r.iter().zip(&y).map(|(g, t)| g * (1.0 - t * t)).collect();
    let (mut dk_l, mut dx_l) = (vec![0.0; kernel.len()], vec![0.0; x.len()]);
    linear
        .backward(
            batch,
            &x,
            &kernel,
            &z,
            &mut dz,
            &mut dk_l,
            None,
            Some(&mut dx_l),
            &mut ws,
        )
        .unwrap();
    assert_close("fused tanh dkernel", &dk_f, &dk_l, 1e-4);
    assert_close("fused tanh dx", &dx_f, &dx_l, 1e-4);
}

#[test]
fn conv2d_dilated_same() {
    grouped_case(2, (7, 8, 3), 4, 1, (3, 3), (1, 1), (2, 2), "same");
}

#[test]
fn conv2d_dilated_valid_asymmetric() {
    grouped_case(3, (9, 7, 2), 3, 1, (3, 2), (1, 1), (2, 3), "valid");
}

#[test]
fn conv2d_dilated_even_kernel_same() {
    grouped_case(1, (6, 6, 2), 2, 1, (2, 4), (1, 1), (3, 2), "same");
}

#[test]
fn conv2d_groups_2_same_strided() {
    grouped_case(2, (6, 7, 4), 6, 2, (3, 3), (2, 2), (1, 1), "same");
}

#[test]
fn conv2d_groups_3_valid_batch_5() {
    grouped_case(5, (5, 5, 6), 9, 3, (2, 3), (1, 2), (1, 1), "valid");
}

#[test]
fn conv2d_groups_with_dilation() {
    grouped_case(2, (8, 8, 4), 4, 4, (3, 3), (1, 1), (2, 2), "same");
}

#[test]
fn conv2d_kernel_span_larger_than_input_same() {
    grouped_case(1, (3, 2, 2), 2, 1, (3, 3), (1, 1), (2, 2), "same");
}

fn depthwise_case(
    batch: usize,
    (h, w, c): (usize, usize, usize),
    dm: usize,
    k: usize,
    s: usize,
    d: usize,
    padding: &str,
) {
    let rows = axis(h, k, s, d, padding);
    let cols = axis(w, k, s, d, padding);
    let conv = GroupedConv2d::depthwise(rows, cols, c, dm, Activation::Linear);
    assert_eq!(
        conv.kernel_len(),
        k * k * c * dm,
        "Keras's depthwise_kernel [k, k, c, dm]"
    );
    // Direct depthwise loop: output channel c * dm + m reads channel c only.
    let reference = |x: &[f32], p: &[Vec<f32>]| {
        let (oh, ow) = (rows.output, cols.output);
        let mut y = vec![0.0f32; batch * oh * ow * c * dm];
        for n in 0..batch {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ch in 0..c {
                        for m in 0..dm {
                            let mut acc = p[1][ch * dm + m] as f64;
                            for ky in 0..k {
                                for kx in 0..k {
                                    let iy = (oy * s + ky * d) as isize - rows.pad_before as isize;
                                    let ix = (ox * s + kx * d) as isize - cols.pad_before as isize;
                                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                                        continue;
                                    }
                                    let xv = x[((n * h + iy as usize) * w + ix as usize) * c + ch];
                                    acc += xv as f64 * p[0][((ky * k + kx) * c + ch) * dm + m] as f64;
                                }
                            }
                            y[((n * oh + oy) * ow + ox) * c * dm + ch * dm + m] = acc as f32;
                        }
                    }
                }
            }
        }
        y
    };
    on_every_path(|| check_layer("depthwise conv2d", &conv, batch, &reference));
}

#[test]
fn depthwise_multiplier_1_same() {
    depthwise_case(2, (6, 6, 3), 1, 3, 1, 1, "same");
}

#[test]
fn depthwise_multiplier_2_strided_valid() {
    depthwise_case(3, (7, 6, 4), 2, 3, 2, 1, "valid");
}

#[test]
fn depthwise_multiplier_3_dilated_same() {
    depthwise_case(1, (7, 7, 2), 3, 3, 1, 2, "same");
}

#[test]
fn depthwise_strided_and_dilated_as_keras_allows() {
    depthwise_case(2, (9, 9, 2), 2, 3, 2, 2, "same");
}

struct Separable(SeparableConv2d);

impl Layer for Separable {
    fn in_len(&self) -> usize {
        self.0.in_len()
    }
    fn out_len(&self) -> usize {
        self.0.out_len()
    }
    fn param_lens(&self) -> Vec<usize> {
        vec![
            self.0.depthwise_kernel_len(),
            self.0.pointwise_kernel_len(),
            self.0.pointwise.filters,
        ]
    }
    fn forward(&self, batch: usize, x: &[f32], p: &[Vec<f32>], y: &mut [f32], ws: &mut Workspace) {
        self.0
            .forward(batch, x, &p[0], &p[1], Some(&p[2]), y, ws)
            .unwrap();
    }
    fn backward(
        &self,
        batch: usize,
        x: &[f32],
        p: &[Vec<f32>],
        y: &[f32],
        dy: &mut [f32],
        dp: &mut [Vec<f32>],
        dx: &mut [f32],
        ws: &mut Workspace,
    ) {
        let [dd, dpw, db] = dp else { unreachable!() };
        self.0
            .backward(batch, x, &p[0], &p[1], y, dy, dd, dpw, Some(db), Some(dx), ws)
            .unwrap();
    }
}

#[allow(clippy::too_many_arguments)]
fn separable_case(
    batch: usize,
    (h, w, c): (usize, usize, usize),
    dm: usize,
    f: usize,
    k: usize,
    s: usize,
    d: usize,
    padding: &str,
) {
    let rows = axis(h, k, s, d, padding);
    let cols = axis(w, k, s, d, padding);
    let layer = Separable(SeparableConv2d::new(rows, cols, c, dm, f, Activation::Linear));
    // Depthwise as a direct grouped loop, then a direct 1x1 loop.
    let depthwise = Direct {
        h,
        w,
        cin: c,
        f: c * dm,
        groups: c,
        k: (k, k),
        s: (s, s),
        d: (d, d),
        pad: (rows.pad_before, cols.pad_before),
        out: (rows.output, cols.output),
    };
    let pointwise = Direct {
        h: rows.output,
        w: cols.output,
        cin: c * dm,
        f,
        groups: 1,
        k: (1, 1),
        s: (1, 1),
        d: (1, 1),
        pad: (0, 0),
        out: (rows.output, cols.output),
    };
    let reference = |x: &[f32], p: &[Vec<f32>]| {
        let mid = depthwise.forward(batch, x, &p[0], &vec![0.0; c * dm]);
        pointwise.forward(batch, &mid, &p[1], &p[2])
    };
    on_every_path(|| check_layer("separable conv2d", &layer, batch, &reference));
}

#[test]
fn separable_same_multiplier_1() {
    separable_case(2, (6, 5, 3), 1, 4, 3, 1, 1, "same");
}

#[test]
fn separable_strided_valid_multiplier_2() {
    separable_case(3, (7, 7, 2), 2, 3, 3, 2, 1, "valid");
}

#[test]
fn separable_dilated_batch_5() {
    separable_case(5, (6, 6, 2), 2, 2, 2, 1, 2, "same");
}

impl Layer for Conv2dTranspose {
    fn in_len(&self) -> usize {
        Conv2dTranspose::in_len(self)
    }
    fn out_len(&self) -> usize {
        Conv2dTranspose::out_len(self)
    }
    fn param_lens(&self) -> Vec<usize> {
        vec![self.kernel_len(), self.filters()]
    }
    fn forward(&self, batch: usize, x: &[f32], p: &[Vec<f32>], y: &mut [f32], ws: &mut Workspace) {
        Conv2dTranspose::forward(self, batch, x, &p[0], Some(&p[1]), y, ws).unwrap();
    }
    fn backward(
        &self,
        batch: usize,
        x: &[f32],
        p: &[Vec<f32>],
        y: &[f32],
        dy: &mut [f32],
        dp: &mut [Vec<f32>],
        dx: &mut [f32],
        ws: &mut Workspace,
    ) {
        let (dk, db) = dp.split_at_mut(1);
        Conv2dTranspose::backward(
            self,
            batch,
            x,
            &p[0],
            y,
            dy,
            &mut dk[0],
            Some(&mut db[0]),
            Some(dx),
            ws,
        )
        .unwrap();
    }
}

/// Keras's `deconv_output_length` and TensorFlow's placement: the output is
/// the length `L` a forward convolution maps back onto the input, and the
/// full scattered result is cropped by that convolution's leading padding.
fn keras_transposed_axis(
    input: usize,
    k: usize,
    s: usize,
    padding: &str,
    output_padding: Option<usize>,
) -> (usize, usize) {
    let len = match (output_padding, padding) {
        (None, "valid") => input * s + k.saturating_sub(s),
        (None, _) => input * s,
        (Some(op), "valid") => (input - 1) * s + k + op,
        (Some(op), _) => (input - 1) * s + k - 2 * (k / 2) + op,
    };
    let crop = match padding {
        "valid" => 0,
        _ => ((input - 1) * s + k).saturating_sub(len) / 2,
    };
    (len, crop)
}

#[allow(clippy::too_many_arguments)]
fn transpose_case(
    batch: usize,
    (h, w, cin): (usize, usize, usize),
    f: usize,
    k: (usize, usize),
    s: (usize, usize),
    padding: &str,
    output_padding: Option<(usize, usize)>,
) {
    let pad = if padding == "valid" {
        Padding::Valid
    } else {
        Padding::Same
    };
    let rows = ConvAxis::transposed(h, k.0, s.0, 1, pad, output_padding.map(|p| p.0)).unwrap();
    let cols = ConvAxis::transposed(w, k.1, s.1, 1, pad, output_padding.map(|p| p.1)).unwrap();
    let layer = Conv2dTranspose::new(rows, cols, cin, f, Activation::Linear);
    let (oh, crop_h) = keras_transposed_axis(h, k.0, s.0, padding, output_padding.map(|p| p.0));
    let (ow, crop_w) = keras_transposed_axis(w, k.1, s.1, padding, output_padding.map(|p| p.1));
    assert_eq!((layer.out_h(), layer.out_w()), (oh, ow), "Keras's output size");
    // Direct scatter: input pixel (i, j) adds x * kernel[ky, kx, o, c] at
    // (i*s + ky - crop, j*s + kx - crop).
    let reference = |x: &[f32], p: &[Vec<f32>]| {
        let mut y = vec![0.0f64; batch * oh * ow * f];
        for n in 0..batch {
            for i in 0..h {
                for j in 0..w {
                    for ky in 0..k.0 {
                        for kx in 0..k.1 {
                            let oy = (i * s.0 + ky) as isize - crop_h as isize;
                            let ox = (j * s.1 + kx) as isize - crop_w as isize;
                            if oy < 0 || ox < 0 || oy >= oh as isize || ox >= ow as isize {
                                continue;
                            }
                            for o in 0..f {
                                for c in 0..cin {
                                    let xv = x[((n * h + i) * w + j) * cin + c] as f64;
                                    let kv = p[0][((ky * k.1 + kx) * f + o) * cin + c] as f64;
                                    y[((n * oh + oy as usize) * ow + ox as usize) * f + o] += xv * kv;
                                }
                            }
                        }
                    }
                }
            }
        }
        y.chunks_exact(f)
            .flat_map(|pixel| pixel.iter().zip(&p[1]).map(|(v, b)| (*v + *b as f64) as f32))
            .collect()
    };
    on_every_path(|| check_layer("conv2d transpose", &layer, batch, &reference));
}

#[test]
fn transpose_3x3_stride2_same() {
    transpose_case(2, (4, 5, 3), 2, (3, 3), (2, 2), "same", None);
}

#[test]
fn transpose_3x3_stride2_valid() {
    transpose_case(2, (4, 3, 2), 3, (3, 3), (2, 2), "valid", None);
}

#[test]
fn transpose_4x4_stride2_same_even_kernel() {
    transpose_case(1, (3, 3, 2), 2, (4, 4), (2, 2), "same", None);
}

#[test]
fn transpose_kernel_smaller_than_stride_valid() {
    transpose_case(2, (3, 4, 2), 2, (1, 2), (3, 3), "valid", None);
}

#[test]
fn transpose_stride1_same_batch_5() {
    transpose_case(5, (4, 4, 2), 3, (3, 2), (1, 1), "same", None);
}

#[test]
fn transpose_output_padding_same_and_valid() {
    transpose_case(2, (3, 4, 2), 2, (3, 3), (2, 2), "same", Some((1, 0)));
    transpose_case(2, (3, 3, 2), 2, (3, 3), (2, 2), "valid", Some((1, 1)));
    transpose_case(1, (3, 3, 1), 2, (5, 5), (3, 3), "same", Some((2, 1)));
}

fn conv1d_case(
    batch: usize,
    (steps, cin): (usize, usize),
    f: usize,
    k: usize,
    s: usize,
    d: usize,
    padding: &str,
) {
    let conv = GroupedConv2d::conv1d(axis(steps, k, s, d, padding), cin, f, 1, Activation::Linear);
    assert_eq!(conv.kernel_len(), k * cin * f, "Keras's kernel [k, in, out]");
    let (out, pad) = keras_axis(steps, k, s, d, padding);
    // Direct 1-D loop over [steps, channels].
    let reference = |x: &[f32], p: &[Vec<f32>]| {
        let mut y = vec![0.0f32; batch * out * f];
        for n in 0..batch {
            for t in 0..out {
                for o in 0..f {
                    let mut acc = p[1][o] as f64;
                    for j in 0..k {
                        let Some(i) = (t * s + j * d).checked_sub(pad).filter(|&i| i < steps) else {
                            continue;
                        };
                        for c in 0..cin {
                            acc += x[(n * steps + i) * cin + c] as f64 * p[0][(j * cin + c) * f + o] as f64;
                        }
                    }
                    y[(n * out + t) * f + o] = acc as f32;
                }
            }
        }
        y
    };
    on_every_path(|| check_layer("conv1d", &conv, batch, &reference));
}

#[test]
fn conv1d_valid_strided() {
    conv1d_case(3, (11, 3), 4, 3, 2, 1, "valid");
}

#[test]
fn conv1d_same_dilated() {
    conv1d_case(2, (9, 2), 3, 3, 1, 2, "same");
}

#[test]
fn conv1d_causal_dilated_never_reads_the_future() {
    conv1d_case(2, (10, 2), 3, 3, 1, 3, "causal");
    conv1d_case(2, (10, 2), 2, 2, 2, 1, "causal");
    // Changing the last step changes only the last output.
    let conv = GroupedConv2d::conv1d(axis(6, 3, 1, 2, "causal"), 1, 1, 1, Activation::Linear);
    let kernel = [1.0, 2.0, 3.0];
    let mut ws = Workspace::new();
    let (mut a, mut b) = (vec![0.0; 6], vec![0.0; 6]);
    conv.forward(1, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &kernel, None, &mut a, &mut ws)
        .unwrap();
    conv.forward(1, &[1.0, 2.0, 3.0, 4.0, 5.0, 9.0], &kernel, None, &mut b, &mut ws)
        .unwrap();
    assert_eq!(a[..5], b[..5]);
    assert_ne!(a[5], b[5]);
    // y[5] = 1*x[1] + 2*x[3] + 3*x[5]; y[0] = 3*x[0].
    assert_eq!((a[0], a[5]), (3.0, 2.0 + 8.0 + 18.0));
}

/// MaxPooling1D / AveragePooling1D are one-row 2-D pools over
/// `[steps, channels]`; checked against a direct 1-D loop.
#[test]
fn pooling1d_is_a_one_row_pool() {
    for (kind, pool, stride, padding) in [
        (PoolKind::Max, 2, 2, Padding::Valid),
        (PoolKind::Max, 3, 2, Padding::Same),
        (PoolKind::Average, 3, 1, Padding::Same),
        (PoolKind::Average, 2, 3, Padding::Valid),
    ] {
        let (batch, steps, c) = (3, 9, 2);
        let layer = Pool2d {
            kind,
            window: Window2d {
                in_h: 1,
                in_w: steps,
                kernel_h: 1,
                kernel_w: pool,
                stride_h: 1,
                stride_w: stride,
                padding,
            },
            channels: c,
        };
        let name = if padding == Padding::Valid {
            "valid"
        } else {
            "same"
        };
        let (out, pad) = keras_axis(steps, pool, stride, 1, name);
        let x = distinct_vec(&mut rng(3), batch * steps * c);
        let mut expected = vec![];
        for n in 0..batch {
            for t in 0..out {
                for ch in 0..c {
                    let cells: Vec<f32> = (0..pool)
                        .filter_map(|j| (t * stride + j).checked_sub(pad).filter(|&i| i < steps))
                        .map(|i| x[(n * steps + i) * c + ch])
                        .collect();
                    expected.push(match kind {
                        PoolKind::Max => cells.iter().copied().fold(f32::NEG_INFINITY, f32::max),
                        PoolKind::Average => cells.iter().sum::<f32>() / cells.len() as f32,
                    });
                }
            }
        }
        let mut y = vec![0.0; expected.len()];
        layer.forward(batch, &x, &mut y).unwrap();
        assert_close("pooling1d forward", &y, &expected, 1e-6);
        let r = random_vec(&mut rng(4), y.len());
        let mut dx = vec![0.0; x.len()];
        layer.backward(batch, &x, &y, &r, &mut dx).unwrap();
        let mut out_buf = vec![0.0; y.len()];
        check_gradient("pooling1d dx", &x, &dx, |p| {
            layer.forward(batch, p, &mut out_buf).unwrap();
            dot(&out_buf, &r)
        });
    }
}

#[test]
fn global_average_pooling1d_is_a_one_row_pool() {
    let (batch, steps, c) = (2, 7, 3);
    let layer = GlobalAveragePool2d {
        h: 1,
        w: steps,
        channels: c,
    };
    let x = random_vec(&mut rng(8), batch * steps * c);
    let mut y = vec![0.0; batch * c];
    layer.forward(batch, &x, &mut y).unwrap();
    let expected: Vec<f32> = (0..batch * c)
        .map(|i| {
            (0..steps)
                .map(|t| x[((i / c) * steps + t) * c + i % c])
                .sum::<f32>()
                / steps as f32
        })
        .collect();
    assert_close("global average pooling1d", &y, &expected, 1e-6);
    let r = random_vec(&mut rng(9), y.len());
    let mut dx = vec![0.0; x.len()];
    layer.backward(batch, &r, &mut dx).unwrap();
    let mut out = vec![0.0; y.len()];
    check_gradient("global average pooling1d dx", &x, &dx, |p| {
        layer.forward(batch, p, &mut out).unwrap();
        dot(&out, &r)
    });
}

#[test]
fn bad_descriptions_are_errors_not_panics() {
    let a = ConvAxis::new(6, 3, 1, 1, Padding::Same).unwrap();
    let mut ws = Workspace::new();
    let bad_groups = GroupedConv2d {
        rows: a,
        cols: a,
        in_channels: 4,
        filters: 6,
        groups: 4,
        activation: Activation::Linear,
    };
    let err = bad_groups
        .forward(1, &[0.0; 144], &[0.0; 54], None, &mut [0.0; 216], &mut ws)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d (grouped/dilated): 4 groups must divide both the 4 input channels and the 6 filters"
    );
    let broken_axis = GroupedConv2d {
        rows: ConvAxis { pad_before: 3, ..a },
        groups: 1,
        ..bad_groups
    };
    let err = broken_axis
        .forward(1, &[0.0; 144], &[0.0; 216], None, &mut [0.0; 216], &mut ws)
        .unwrap_err();
    assert!(
        err.to_string().contains("height: 6 outputs of a kernel 3"),
        "{err}"
    );
    let ok = GroupedConv2d {
        groups: 2,
        ..bad_groups
    };
    let err = ok
        .forward(1, &[0.0; 143], &[0.0; 108], None, &mut [0.0; 216], &mut ws)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "conv2d (grouped/dilated): buffer `x` has 143 elements, expected 144"
    );
    assert!(
        ConvAxis::new(4, 3, 1, 2, Padding::Valid).is_none(),
        "dilated kernel larger than input"
    );
    assert!(
        ConvAxis::transposed(1, 2, 1, 1, Padding::Same, Some(0)).is_none(),
        "empty output"
    );
    assert!(
        ConvAxis::new(usize::MAX, usize::MAX, 1, 3, Padding::Same).is_none(),
        "overflowing span"
    );
}

/// Keras 3.15's own outputs (JAX backend) for one case of
/// `tools/keras/make_conv_variants_fixture.py`: `(x, [weights...], y)` by name.
fn keras_case(name: &str, weights: &[&str]) -> (Vec<f32>, Vec<Vec<f32>>, Vec<f32>) {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/conv_variants.safetensors"
    ))
    .unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let read = |key: String| -> Vec<f32> {
        let t = file.tensor(&key).unwrap_or_else(|e| panic!("{key}: {e}"));
        t.data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    (
        read(format!("{name}/x")),
        weights.iter().map(|w| read(format!("{name}/{w}"))).collect(),
        read(format!("{name}/y")),
    )
}

fn grouped_against_keras(name: &str, conv: GroupedConv2d) {
    let (x, w, expected) = keras_case(name, &["kernel", "bias"]);
    let mut y = vec![f32::NAN; expected.len()];
    conv.forward(2, &x, &w[0], Some(&w[1]), &mut y, &mut Workspace::new())
        .unwrap();
    assert_close(name, &y, &expected, 1e-5);
}

#[test]
fn keras_conv2d_dilation_and_groups() {
    let a = |i, k, s, d, p| ConvAxis::new(i, k, s, d, p).unwrap();
    let conv = |rows, cols, cin, f, groups| GroupedConv2d {
        rows,
        cols,
        in_channels: cin,
        filters: f,
        groups,
        activation: Activation::Linear,
    };
    let same = Padding::Same;
    grouped_against_keras(
        "conv2d_dilated_same",
        conv(a(7, 3, 1, 2, same), a(6, 3, 1, 2, same), 3, 4, 1),
    );
    grouped_against_keras(
        "conv2d_groups_strided",
        conv(a(6, 3, 2, 1, same), a(7, 3, 2, 1, same), 4, 6, 2),
    );
    let depthwise =
        GroupedConv2d::depthwise(a(9, 3, 2, 2, same), a(8, 3, 2, 2, same), 3, 2, Activation::Linear);
    grouped_against_keras("depthwise_strided_dilated", depthwise);
}

#[test]
fn keras_conv1d_causal_and_same() {
    let causal = GroupedConv2d::conv1d(
        ConvAxis::causal(10, 3, 1, 2).unwrap(),
        3,
        4,
        1,
        Activation::Linear,
    );
    grouped_against_keras("conv1d_causal_dilated", causal);
    let same = GroupedConv2d::conv1d(
        ConvAxis::new(9, 4, 2, 1, Padding::Same).unwrap(),
        2,
        3,
        1,
        Activation::Linear,
    );
    grouped_against_keras("conv1d_same_strided", same);
}

#[test]
fn keras_separable_conv2d() {
    let a = ConvAxis::new(7, 3, 2, 1, Padding::Valid).unwrap();
    let layer = SeparableConv2d::new(a, a, 3, 2, 4, Activation::Linear);
    let (x, w, expected) = keras_case(
        "separable_valid",
        &["depthwise_kernel", "pointwise_kernel", "bias"],
    );
    let mut y = vec![f32::NAN; expected.len()];
    layer
        .forward(2, &x, &w[0], &w[1], Some(&w[2]), &mut y, &mut Workspace::new())
        .unwrap();
    assert_close("separable_valid", &y, &expected, 1e-5);
}

#[test]
fn keras_conv2d_transpose_output_sizes_and_values() {
    let cases = [
        ("transpose_same", (4, 5, 3), 2, 3, 2, Padding::Same, None),
        ("transpose_valid_even", (3, 4, 2), 3, 4, 2, Padding::Valid, None),
        (
            "transpose_output_padding",
            (3, 4, 2),
            2,
            5,
            3,
            Padding::Same,
            Some((2, 1)),
        ),
    ];
    for (name, (h, w, cin), f, k, s, padding, op) in cases {
        let rows = ConvAxis::transposed(h, k, s, 1, padding, op.map(|p: (usize, usize)| p.0)).unwrap();
        let cols = ConvAxis::transposed(w, k, s, 1, padding, op.map(|p| p.1)).unwrap();
        let layer = Conv2dTranspose::new(rows, cols, cin, f, Activation::Linear);
        let (x, weights, expected) = keras_case(name, &["kernel", "bias"]);
        let mut y = vec![f32::NAN; 2 * layer.out_len()];
        assert_eq!(y.len(), expected.len(), "{name}: output size");
        layer
            .forward(
                2,
                &x,
                &weights[0],
                Some(&weights[1]),
                &mut y,
                &mut Workspace::new(),
            )
            .unwrap();
        assert_close(name, &y, &expected, 1e-5);
    }
}

#[test]
fn absurd_sizes_nan_inputs_and_concurrent_calls() {
    // Sizes whose products overflow are an error, not a panic.
    let huge = ConvAxis::new(1 << 40, 1, 1, 1, Padding::Valid).unwrap();
    let conv = GroupedConv2d {
        rows: huge,
        cols: huge,
        in_channels: 1 << 20,
        filters: 1,
        groups: 1,
        activation: Activation::Linear,
    };
    let err = conv
        .forward(1, &[], &[], None, &mut [], &mut Workspace::new())
        .unwrap_err();
    assert!(err.to_string().contains("overflow the address space"), "{err}");

    // A NaN input reaches exactly the outputs whose windows read it.
    let a = ConvAxis::new(5, 3, 1, 2, Padding::Same).unwrap();
    let conv = GroupedConv2d::depthwise(a, a, 2, 1, Activation::Relu);
    let mut x = vec![0.5; conv.in_len()];
    x[0] = f32::NAN; // pixel (0, 0), channel 0
    let kernel = vec![1.0; conv.kernel_len()];
    let mut y = vec![0.0; conv.out_len()];
    conv.forward(1, &x, &kernel, None, &mut y, &mut Workspace::new())
        .unwrap();
    for oy in 0..5 {
        for ox in 0..5 {
            // Dilation 2, padding 2: output (oy, ox) reads rows oy-2, oy, oy+2.
            let reads = oy % 2 == 0 && oy <= 2 && ox % 2 == 0 && ox <= 2;
            assert_eq!(y[(oy * 5 + ox) * 2].is_nan(), reads, "({oy}, {ox})");
            assert!(
                !y[(oy * 5 + ox) * 2 + 1].is_nan(),
                "channel 1 never reads the NaN"
            );
        }
    }

    // Two threads calling the same layer at once get the one-thread answer.
    let b = ConvAxis::new(9, 3, 2, 1, Padding::Same).unwrap();
    let conv = GroupedConv2d {
        rows: b,
        cols: b,
        in_channels: 4,
        filters: 6,
        groups: 2,
        activation: Activation::Tanh,
    };
    let x = random_vec(&mut rng(21), 3 * conv.in_len());
    let kernel = random_vec(&mut rng(22), conv.kernel_len());
    let mut expected = vec![0.0; 3 * conv.out_len()];
    conv.forward(3, &x, &kernel, None, &mut expected, &mut Workspace::new())
        .unwrap();
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let mut y = vec![0.0; 3 * conv.out_len()];
                    let mut ws = Workspace::new();
                    for _ in 0..20 {
                        conv.forward(3, &x, &kernel, None, &mut y, &mut ws).unwrap();
                    }
                    y
                })
            })
            .collect();
        for run in runs {
            assert_eq!(run.join().unwrap(), expected);
        }
    });
}
