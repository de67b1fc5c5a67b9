//! Keras 3 weights in: a fixture made by Keras (tools/keras/make_fixture.py:
//! convolutions, batch norm, a residual branch, dense layers, seeded random
//! weights and moving statistics) loads into the `network!` describing the
//! same model, and nn's outputs equal the outputs Keras computed.

mod common;

use std::path::{Path, PathBuf};

use nn::ndarray::{ArrayD, IxDyn};
use nn::prelude::*;
use safetensors::SafeTensors;

network! {
    /// The fixture's model up to its last hidden layer, statement for
    /// statement, with the first convolution `width` filters wide.
    fn branchy_trunk(image, width) {
        let h = Conv2D(width, 3, padding = same, activation = relu)(image);
        let h = BatchNormalization()(h);
        let shortcut = Conv2D(8, 1, strides = 2)(h);
        let a = Conv2D(8, 3, strides = 2, padding = same, activation = relu)(h);
        let a = Conv2D(8, 3, padding = same, use_bias = false)(a);
        let a = BatchNormalization(epsilon = 0.01)(a);
        let h = relu(add(a, shortcut));
        let h = MaxPooling2D(2)(h);
        Dense(10, activation = tanh)(flatten(h))
    }

    /// The fixture's model.
    struct Branchy {
        input image: [8, 8, 3];
        // The trunk first: layers are named in the order they are built.
        let h = branchy_trunk(image, 6);
        output probs = Dense(4, activation = softmax)(h);
    }

    /// Branchy with a wider first convolution and an extra dense layer.
    struct NotBranchy {
        input image: [8, 8, 3];
        let h = branchy_trunk(image, 7);
        let h = Dense(10, activation = tanh)(h);
        output probs = Dense(4, activation = softmax)(h);
    }

    /// Branchy without its last dense layer.
    struct Truncated {
        input image: [8, 8, 3];
        output features = branchy_trunk(image, 6);
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keras")
        .join(name)
}

fn stored(file: &[u8], key: &str) -> ArrayD<f32> {
    let tensors = SafeTensors::deserialize(file).unwrap();
    let view = tensors.tensor(key).unwrap();
    let data = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    ArrayD::from_shape_vec(IxDyn(view.shape()), data).unwrap()
}

#[test]
fn keras_trained_weights_give_kerass_outputs() {
    let mut net = Branchy::new(&mut common::rng(1));
    net.load_keras_weights(fixture("branchy.keras.safetensors"))
        .unwrap();
    let io = std::fs::read(fixture("branchy_io.safetensors")).unwrap();
    let (image, expected) = (stored(&io, "image"), stored(&io, "probs"));
    let ours = net
        .forward_arrays(&[image.view()], Mode::Infer)
        .unwrap()
        .remove(0);
    assert_eq!(ours.shape(), expected.shape());
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    let diff = ours
        .iter()
        .zip(&expected)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!(
        "Keras fixture: max abs difference {diff:.2e}, relative {:.2e}",
        diff / scale
    );
    assert!(
        diff <= 1e-5 * scale,
        "max difference {diff} against outputs up to {scale}"
    );
}

/// Keras 3 files layers by depth, not by construction: the shortcut built
/// second is the fourth `conv2d` group.
#[test]
fn keras_groups_follow_the_graph_not_the_construction_order() {
    let groups: Vec<(&str, String)> = nn::runtime::io::keras::keras_groups(&Branchy::SPEC)
        .into_iter()
        .map(|(layer, group)| (Branchy::SPEC.layers[layer].name, group))
        .collect();
    let expected = [
        ("conv2d_1", "layers/conv2d"),
        ("batch_normalization_1", "layers/batch_normalization"),
        ("conv2d_3", "layers/conv2d_1"),
        ("conv2d_4", "layers/conv2d_2"),
        ("batch_normalization_2", "layers/batch_normalization_1"),
        ("conv2d_2", "layers/conv2d_3"),
        ("dense_1", "layers/dense"),
        ("dense_2", "layers/dense_1"),
    ];
    let expected: Vec<(&str, String)> = expected.iter().map(|(a, b)| (*a, b.to_string())).collect();
    assert_eq!(groups, expected);
}

#[test]
fn a_keras_file_for_another_network_is_reported_whole_and_changes_nothing() {
    let mut net = NotBranchy::new(&mut common::rng(1));
    let before = (net.params().to_vec(), net.state().to_vec());
    let path = fixture("branchy.keras.safetensors");
    let err = net.load_keras_weights(&path).unwrap_err().to_string();
    let origin = path.display();
    assert_eq!(
        err,
        format!(
            "`{origin}` does not match network NotBranchy:\n  \
             - tensor `layers/conv2d/vars/0` for `conv2d_1.kernel` (Keras layer `conv2d`) has shape [3, 3, 3, 6], expected [3, 3, 3, 7]\n  \
             - tensor `layers/conv2d/vars/1` for `conv2d_1.bias` (Keras layer `conv2d`) has shape [6], expected [7]\n  \
             - tensor `layers/batch_normalization/vars/0` for `batch_normalization_1.gamma` (Keras layer `batch_normalization`) has shape [6], expected [7]\n  \
             - tensor `layers/batch_normalization/vars/1` for `batch_normalization_1.beta` (Keras layer `batch_normalization`) has shape [6], expected [7]\n  \
             - tensor `layers/batch_normalization/vars/2` for `batch_normalization_1.moving_mean` (Keras layer `batch_normalization`) has shape [6], expected [7]\n  \
             - tensor `layers/batch_normalization/vars/3` for `batch_normalization_1.moving_variance` (Keras layer `batch_normalization`) has shape [6], expected [7]\n  \
             - tensor `layers/conv2d_3/vars/0` for `conv2d_2.kernel` (Keras layer `conv2d_1`) has shape [1, 1, 6, 8], expected [1, 1, 7, 8]\n  \
             - tensor `layers/conv2d_1/vars/0` for `conv2d_3.kernel` (Keras layer `conv2d_2`) has shape [3, 3, 6, 8], expected [3, 3, 7, 8]\n  \
             - tensor `layers/dense_1/vars/0` for `dense_2.kernel` (Keras layer `dense_1`) has shape [10, 4], expected [10, 10]\n  \
             - tensor `layers/dense_1/vars/1` for `dense_2.bias` (Keras layer `dense_1`) has shape [4], expected [10]\n  \
             - missing tensor `layers/dense_2/vars/0` for `dense_3.kernel` (shape [10, 4])\n  \
             - missing tensor `layers/dense_2/vars/1` for `dense_3.bias` (shape [4])"
        )
    );
    assert_eq!(
        (net.params().to_vec(), net.state().to_vec()),
        before,
        "a failed load changes nothing"
    );
}

#[test]
fn unexpected_keras_tensors_and_bad_files_are_errors() {
    // Branchy's weights into a network without its last dense layer.
    let mut net = Truncated::new(&mut common::rng(1));
    let err = net
        .load_keras_weights(fixture("branchy.keras.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(
        err.ends_with(
            "\n  - unexpected tensor `layers/dense_1/vars/0`\n  - unexpected tensor `layers/dense_1/vars/1`"
        ),
        "{err}"
    );
    // The HDF5 file itself is not read: the message says how to convert it.
    let err = net
        .load_keras_weights(fixture("branchy.weights.h5"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("keras_weights_to_safetensors.py"), "{err}");
    let err = net
        .load_keras_weights(fixture("no-such-file.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cannot read Keras weights from"), "{err}");
}

network! {
    /// `conv_family_2d` of tools/keras/make_conv_family_fixture.py.
    struct ConvFamily2d {
        input image: [8, 8, 4];
        let h = Conv2D(8, 3, padding = same, dilation_rate = 2, activation = relu)(image);
        let h = Conv2D(8, 3, padding = same, groups = 4)(h);
        let h = DepthwiseConv2D(3, strides = 2, padding = same, depth_multiplier = 2, activation = relu)(h);
        let h = SeparableConv2D(8, 3, padding = same, depth_multiplier = 2, activation = tanh)(h);
        let h = Conv2DTranspose(4, 3, strides = 2, padding = same)(h);
        output out = Conv2DTranspose(2, 2, strides = 2, output_padding = 1)(h);
    }

    /// `conv_family_1d` of the same script.
    struct ConvFamily1d {
        input seq: [16, 3];
        let h = Conv1D(6, 3, padding = causal, dilation_rate = 2, activation = relu)(seq);
        let h = MaxPooling1D(2)(h);
        let h = Conv1D(8, 3, strides = 2, padding = same, groups = 2)(h);
        let h = AveragePooling1D(2, strides = 1, padding = same)(h);
        let h = GlobalAveragePooling1D()(h);
        output out = Dense(3, activation = softmax)(h);
    }
}

/// Loads `<model>.keras.safetensors` and compares `predict` with Keras's
/// outputs in `<model>_io.safetensors`.
fn agrees_with_keras<M: Model>(net: &mut M, model: &str, input: &str) {
    net.load_keras_weights(fixture(&format!("{model}.keras.safetensors")))
        .unwrap();
    let io = std::fs::read(fixture(&format!("{model}_io.safetensors"))).unwrap();
    let (x, expected) = (stored(&io, input), stored(&io, "out"));
    let ours = net.forward_arrays(&[x.view()], Mode::Infer).unwrap().remove(0);
    assert_eq!(ours.shape(), expected.shape(), "{model}");
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    let diff = ours
        .iter()
        .zip(&expected)
        .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(
        diff <= 1e-5 * scale,
        "{model}: max difference {diff} against outputs up to {scale}"
    );
}

#[test]
fn keras_convolution_family_weights_give_kerass_outputs() {
    agrees_with_keras(
        &mut ConvFamily2d::new(&mut common::rng(1)),
        "conv_family_2d",
        "image",
    );
    agrees_with_keras(
        &mut ConvFamily1d::new(&mut common::rng(1)),
        "conv_family_1d",
        "seq",
    );
}
