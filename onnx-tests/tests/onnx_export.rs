//! ONNX export checked by a second runtime: every network below is written
//! with `save_onnx`, loaded by tract (an independent ONNX implementation in
//! Rust) and run on the same inputs as nn's `predict`; the outputs agree to
//! 1e-5 relative to each output's largest value. Together the networks use
//! every layer kind and option `network!` has.

#[path = "../../examples/networks/lecture.rs"]
mod lecture;

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;

use lecture::{InceptionNet, ResidualNet};
use nn::ndarray::{ArrayD, IxDyn};
use nn::prelude::*;
use nn::rand::Rng;
use tract_onnx::prelude::*;

network! {
    /// Every layer kind and option: strided `same` convolutions on even
    /// sizes (TensorFlow pads one more at the bottom and right), `valid`,
    /// 1x1, non-square kernels and strides, no bias, every activation fused
    /// and as a layer, max and average pooling with asymmetric padding (the
    /// average excludes it), global pooling, flatten, add, concatenate on
    /// images and vectors, batch norm on images and vectors, dropout, dense on
    /// an image tensor, softmax over image channels.
    struct EveryLayer {
        input image: [10, 10, 3];
        let c1 = Conv2D(8, 3, strides = 2, padding = same, activation = leaky_relu)(image);
        let c2 = Conv2D(8, 1, use_bias = false, activation = tanh)(c1);
        let c2 = BatchNormalization(momentum = 0.9)(c2);
        let s = relu6(add(c1, c2));
        let p1 = MaxPooling2D(2, strides = 2, padding = same)(s);
        let p2 = AveragePooling2D(2, strides = 2, padding = same)(s);
        let p3 = AveragePooling2D(3, strides = 1)(s);
        let joined = concat(p1, p2, p3);
        let c3 = Conv2D(6, (2, 3), strides = (1, 2), activation = sigmoid, kernel_initializer = he_normal)(joined);
        let g = GlobalAveragePooling2D()(joined);
        let d = Dense(16, activation = relu)(concat(g, flatten(c3)));
        let d = Dropout(0.5)(d);
        let d = BatchNormalization(epsilon = 0.01)(d);
        let d = Activation(linear)(Dense(10, activation = relu6)(d));
        let d = sigmoid(tanh(leaky_relu(d)));
        output probs = Dense(5, activation = softmax)(d);
        output pixels = Dense(3, activation = softmax)(s);
        output heat = softmax(Conv2D(2, 1, padding = same)(s));
    }

    /// The shape layers: global max pooling, nearest and bilinear
    /// up-sampling, reshape (inferred axis), permute, layer normalization with
    /// and without gamma/beta, batch normalization without them, gelu and
    /// swish fused and as layers.
    struct ShapeLayers {
        input x: [3, 4, 2];
        let c = Conv2D(3, 3, padding = same, activation = gelu)(x);
        let up = UpSampling2D((2, 1))(c);
        let bi = UpSampling2D(size = (2, 3), interpolation = "bilinear")(c);
        let g = concat(GlobalMaxPooling2D()(up), global_max_pooling2d(bi));
        let p = Permute((2, 1))(Reshape((-1, 2))(x));
        let n = LayerNormalization()(p);
        let m = LayerNormalization(center = false, scale = false, epsilon = 0.01)(Dense(5, activation = swish)(n));
        let b = BatchNormalization(center = false)(flatten(m));
        let b = BatchNormalization(scale = false)(b);
        let s = gelu(silu(b));
        output y = Dense(3)(concat(g, s, Reshape((24,))(x)));
        output image = Permute((3, 1, 2))(UpSampling2D(2, interpolation = "bilinear")(x));
    }

    /// The layer kinds added with the layer vocabulary: borders, the other
    /// merges, element-wise functions, the other activations, ReLU and
    /// LeakyReLU as layers.
    struct NewerLayers {
        input image: [7, 8, 3];
        let p = ZeroPadding2D(((1, 2), (0, 3)))(image);
        let c = Conv2D(4, 3, activation = elu)(p);
        let c = Cropping2D(((1, 0), (2, 1)))(c);
        let a = Conv2D(4, 1, activation = selu)(c);
        let b = Conv2D(4, 1, activation = softplus)(c);
        let d = Conv2D(4, 1, activation = hard_sigmoid)(c);
        let m = subtract(a, b);
        let m = multiply(m, b, d);
        let m = average(m, a, abs(b));
        let m = maximum(m, square(a));
        let m = minimum(m, sqrt(d), b);
        let m = ReLU(max_value = 0.8, negative_slope = 0.1, threshold = 0.05)(m);
        let m = LeakyReLU(0.3)(m);
        output y = Dense(3, activation = softmax)(flatten(m));
    }

    /// The convolution family: dilated and grouped Conv2D, DepthwiseConv2D,
    /// SeparableConv2D, Conv2DTranspose (same, valid with a kernel smaller
    /// than the strides, output_padding), and on a sequence Conv1D (causal,
    /// grouped), the 1-D pools and softmax over a sequence's channels.
    struct ConvFamily {
        input image: [9, 8, 4];
        input seq: [11, 3];
        let d = Conv2D(4, 3, padding = same, dilation_rate = (2, 3), activation = relu)(image);
        let g = Conv2D(6, 3, strides = 2, padding = same, groups = 2, activation = tanh)(d);
        let w = DepthwiseConv2D(3, padding = same, depth_multiplier = 2, dilation_rate = 2, activation = relu6)(g);
        let s = SeparableConv2D(5, (3, 2), strides = 2, depth_multiplier = 2, activation = elu)(w);
        let t = Conv2DTranspose(3, 3, strides = 2, padding = same, activation = sigmoid)(s);
        let v = Conv2DTranspose(2, 2, strides = 3, use_bias = false)(t);
        let o = Conv2DTranspose(2, 3, strides = 2, padding = same, output_padding = (1, 0))(t);
        let a = Conv1D(4, 3, padding = causal, dilation_rate = 2, activation = relu)(seq);
        let b = MaxPooling1D(3, strides = 2, padding = same)(a);
        let c = Conv1D(4, 2, groups = 2, activation = softmax)(b);
        let e = AveragePooling1D(2, padding = same)(c);
        output pixels = Dense(2)(v);
        output wide = o;
        output steps = Conv1D(2, 1)(e);
        output pooled = Dense(3, activation = softmax)(concat(GlobalAveragePooling1D()(a), flatten(e)));
    }

    /// Two inputs of different ranks, two outputs, a layer shared by two
    /// calls, batch norm over a sequence's features.
    struct TwoInTwoOut {
        input image: [6, 6, 1];
        input steps: [4, 3];
        let c = Conv2D(4, 3, padding = same, activation = relu)(image);
        let g = GlobalAveragePooling2D()(c);
        let s = Dense(5, activation = relu)(steps);
        let s = BatchNormalization()(s);
        let shared = Dense(4, activation = tanh);
        let u = shared(g);
        let v = shared(relu(g));
        let joined = concat(u, v, flatten(s));
        output class = Dense(3, activation = softmax)(joined);
        output value = Dense(1)(joined);
    }
}

/// A file name in a scratch directory removed when the result is dropped.
fn temp_path(name: &str) -> common::TempPath {
    common::TempPath::new("onnx", name)
}

/// Random weights everywhere, including biases and batch-norm parameters
/// and statistics (positive variances), so no layer is an identity by
/// accident of initialisation. Kernels have variance 1 / fan-in, which keeps
/// activations of order one through deep stacks and softmax outputs away
/// from saturation (where every runtime would print the same 0s and 1s).
fn randomize<M: Model>(net: &mut M, seed: u64) {
    let mut rng = common::rng(seed);
    for p in M::SPEC.params {
        let (low, high) = if p.key.ends_with("moving_variance") || p.key.ends_with("gamma") {
            (0.5, 1.5)
        } else if p.fan_in > 0 {
            let limit = (3.0 / p.fan_in as f32).sqrt();
            (-limit, limit)
        } else {
            (-0.3, 0.3)
        };
        let buffer = if p.trainable {
            net.params_mut()
        } else {
            net.state_mut()
        };
        for v in &mut buffer[p.offset..p.offset + p.len] {
            *v = rng.random_range(low..high);
        }
    }
}

fn random_inputs<M: Model>(batch: usize, seed: u64) -> Vec<ArrayD<f32>> {
    let mut rng = common::rng(seed);
    M::SPEC
        .inputs
        .iter()
        .map(|t| {
            let mut shape = vec![batch];
            shape.extend_from_slice(t.shape);
            ArrayD::from_shape_fn(IxDyn(&shape), |_| rng.random_range(-1.0..1.0))
        })
        .collect()
}

fn run_tract(path: &Path, inputs: &[ArrayD<f32>]) -> Vec<ArrayD<f32>> {
    let model = tract_onnx::onnx()
        .model_for_path(path)
        .unwrap()
        .into_optimized()
        .unwrap()
        .into_runnable()
        .unwrap();
    // tract has its own ndarray version: hand tensors over as shape + data.
    let values: TVec<TValue> = inputs
        .iter()
        .map(|a| {
            let data: Vec<f32> = a.iter().copied().collect();
            Tensor::from_shape(a.shape(), &data).unwrap().into()
        })
        .collect();
    model
        .run(values)
        .unwrap()
        .iter()
        .map(|v| {
            let data = v.to_plain_array_view::<f32>().unwrap().iter().copied().collect();
            ArrayD::from_shape_vec(IxDyn(v.shape()), data).unwrap()
        })
        .collect()
}

/// Largest difference relative to the largest magnitude of the reference.
fn relative_difference(actual: &ArrayD<f32>, expected: &ArrayD<f32>) -> f32 {
    assert_eq!(actual.shape(), expected.shape());
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    let diff = actual
        .iter()
        .zip(expected)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(scale > 0.0, "reference output is all zeros");
    diff / scale
}

/// Exports `net`, runs the file in tract at two batch sizes (the batch axis
/// is symbolic) and compares every output with nn's.
fn agrees_with_tract<M: Model>(net: &mut M, file: &str) {
    randomize(net, 3);
    let path = temp_path(file);
    net.save_onnx(&path).unwrap();
    for batch in [1, 3] {
        let inputs = random_inputs::<M>(batch, 4 + batch as u64);
        let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
        let ours = net.forward_arrays(&views, Mode::Infer).unwrap();
        let theirs = run_tract(&path, &inputs);
        assert_eq!(theirs.len(), ours.len(), "{file}: output count");
        for (k, (t, o)) in theirs.iter().zip(&ours).enumerate() {
            let spread = o.iter().fold(f32::INFINITY, |m, &v| m.min(v))
                ..o.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            eprintln!("{file}: output {k} batch {batch}: values in {spread:?}");
            let rel = relative_difference(t, o);
            eprintln!("{file}: output {k} batch {batch}: max relative difference {rel:.2e}");
            assert!(rel <= 1e-5, "{file}: output {k}: relative difference {rel}");
        }
    }
}

#[test]
fn lecture_residual_network_runs_the_same_in_tract() {
    let mut net = ResidualNet::new(&mut common::rng(1));
    agrees_with_tract(&mut net, "residual.onnx");
}

#[test]
fn lecture_inception_network_runs_the_same_in_tract() {
    let mut net = InceptionNet::new(&mut common::rng(1));
    agrees_with_tract(&mut net, "inception.onnx");
}

#[test]
fn every_layer_kind_runs_the_same_in_tract() {
    let mut net = EveryLayer::new(&mut common::rng(1));
    agrees_with_tract(&mut net, "every_layer.onnx");
}

#[test]
fn shape_layers_run_the_same_in_tract() {
    let mut net = ShapeLayers::new(&mut common::rng(1));
    agrees_with_tract(&mut net, "shape_layers.onnx");
}

#[test]
fn newer_layer_kinds_run_the_same_in_tract() {
    let mut net = NewerLayers::new(&mut common::rng(1));
    agrees_with_tract(&mut net, "newer_layers.onnx");
}

#[test]
fn convolution_family_runs_the_same_in_tract() {
    let mut net = ConvFamily::new(&mut common::rng(1));
    agrees_with_tract(&mut net, "conv_family.onnx");
}

#[test]
fn two_inputs_two_outputs_and_a_shared_layer_run_the_same_in_tract() {
    let mut net = TwoInTwoOut::new(&mut common::rng(1));
    agrees_with_tract(&mut net, "two_in_two_out.onnx");
}

/// The file read back with tract's own (complete) ONNX message types: the
/// interface is named and shaped as in `network!`, the batch is symbolic,
/// every weight is an initializer under its weight-file key.
#[test]
fn exported_file_declares_the_network_interface() {
    use prost::Message;
    use tract_onnx::pb::{tensor_shape_proto::dimension::Value as Dim, type_proto::Value as Type};

    let net = TwoInTwoOut::new(&mut common::rng(1));
    let path = temp_path("interface.onnx");
    net.save_onnx(&path).unwrap();
    let model = tract_onnx::pb::ModelProto::decode(&std::fs::read(&path).unwrap()[..]).unwrap();
    assert_eq!(model.opset_import.len(), 1);
    assert_eq!(model.opset_import[0].version, 13);
    assert_eq!(model.producer_name, "nn");
    let graph = model.graph.unwrap();
    let dims = |v: &tract_onnx::pb::ValueInfoProto| -> Vec<String> {
        let Some(Type::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.clone()) else {
            panic!("{} is not a tensor", v.name)
        };
        t.shape
            .unwrap()
            .dim
            .iter()
            .map(|d| match d.value.clone().unwrap() {
                Dim::DimValue(v) => v.to_string(),
                Dim::DimParam(p) => p,
            })
            .collect()
    };
    let inputs: Vec<(String, Vec<String>)> = graph.input.iter().map(|v| (v.name.clone(), dims(v))).collect();
    let outputs: Vec<(String, Vec<String>)> =
        graph.output.iter().map(|v| (v.name.clone(), dims(v))).collect();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        inputs,
        vec![
            ("image".to_string(), s(&["batch", "6", "6", "1"])),
            ("steps".to_string(), s(&["batch", "4", "3"]))
        ]
    );
    assert_eq!(
        outputs,
        vec![
            ("class".to_string(), s(&["batch", "3"])),
            ("value".to_string(), s(&["batch", "1"]))
        ]
    );
    let mut names: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    names.sort();
    let mut keys: Vec<&str> = TwoInTwoOut::SPEC.params.iter().map(|p| p.key).collect();
    keys.sort();
    assert_eq!(names, keys, "one initializer per weight, the shared layer's once");
    let fingerprint = model
        .metadata_props
        .iter()
        .find(|p| p.key == "architecture_fingerprint");
    assert_eq!(
        fingerprint.map(|p| p.value.clone()),
        Some(nn::runtime::fingerprint::fingerprint(&TwoInTwoOut::SPEC))
    );
}

#[test]
fn export_to_an_impossible_path_is_an_error_and_leaves_no_file() {
    let net = TwoInTwoOut::new(&mut common::rng(1));
    let dir = temp_path("no-such-dir");
    let err = net.save_onnx(dir.join("x.onnx")).unwrap_err().to_string();
    assert!(err.starts_with("cannot write ONNX model to"), "{err}");
    assert!(!dir.exists());
}
