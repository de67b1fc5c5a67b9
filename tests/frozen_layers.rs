//! `trainable = false` (Keras's frozen layers): the frozen weights count as
//! non-trainable exactly as in Keras, get no gradient and no update, let
//! the gradient through to earlier layers, a frozen batch normalization runs
//! in inference mode as in Keras 3, and weight files move between a network
//! and its frozen variant (fine-tuning). Keras figures from
//! `tools/keras/frozen_layers.py`.

mod common;

use nn::ndarray::{Array2, Array4};
use nn::prelude::*;
use nn::runtime::{Mode, Model};

network! {
    /// A frozen Dense(10) on 784 inputs (Keras: 7,850 non-trainable).
    struct FrozenDense {
        input x: [784];
        output y = Dense(10, trainable = false)(x);
    }
}

network! {
    /// Keras: 1,578 total, 1,450 trainable, 128 non-trainable.
    struct FrozenFeatures {
        input image: [8, 8, 3];
        let c = Conv2D(4, 3, trainable = false)(image);
        let c = BatchNormalization(trainable = false)(c);
        let f = Flatten(trainable = false)(c);
        output y = Dense(10)(f);
    }
}

network! {
    struct Tower {
        input image: [6, 6, 2];
        let c = Conv2D(3, 3, padding = same, activation = tanh, name = "stem")(image);
        let c = Conv2D(4, 3, activation = relu, name = "body")(c);
        let c = BatchNormalization(name = "body_bn")(c);
        let c = LayerNormalization(name = "body_ln")(c);
        let h = Dense(5, activation = tanh, name = "neck")(flatten(c));
        output y = Dense(3, activation = softmax, name = "head")(h);
    }

    /// [`Tower`] with its middle frozen: each loads the other's files.
    struct FrozenTower {
        input image: [6, 6, 2];
        let c = Conv2D(3, 3, padding = same, activation = tanh, name = "stem")(image);
        let c = Conv2D(4, 3, activation = relu, trainable = false, name = "body")(c);
        let c = BatchNormalization(trainable = false, name = "body_bn")(c);
        let c = LayerNormalization(trainable = false, name = "body_ln")(c);
        let h = Dense(5, activation = tanh, trainable = false, name = "neck")(flatten(c));
        output y = Dense(3, activation = softmax, name = "head")(h);
    }
}

network! {
    /// Every frozen code path in one network for the gradient check: a
    /// frozen convolution first (its input gradient only when asked), a
    /// frozen swish convolution (kept pre-activation), frozen batch and
    /// layer normalization, a frozen dense layer between trained ones.
    struct FrozenMiddle {
        input image: [5, 5, 2];
        let c = Conv2D(3, 3, padding = same, activation = tanh, trainable = false)(image);
        let c = Conv2D(4, 3, padding = same, trainable = false, activation = swish)(c);
        let c = BatchNormalization(trainable = false)(c);
        let c = LayerNormalization(trainable = false)(c);
        let c = Conv2D(3, 1, activation = tanh)(c);
        let h = Dense(6, activation = sigmoid, trainable = false)(flatten(c));
        output y = Dense(2, activation = tanh)(h);
    }
}

network! {
    /// The rest of the convolution family frozen between trained layers:
    /// dilated and grouped Conv2D, DepthwiseConv2D (gelu, kept
    /// pre-activation), SeparableConv2D and Conv2DTranspose.
    struct FrozenFamily {
        input image: [6, 6, 4];
        let c = Conv2D(4, 3, padding = same, dilation_rate = 2, activation = tanh, trainable = false)(image);
        let c = Conv2D(4, 3, padding = same, groups = 2, activation = tanh, trainable = false)(c);
        let c = DepthwiseConv2D(3, padding = same, depth_multiplier = 2, activation = gelu, trainable = false)(c);
        let c = SeparableConv2D(3, 3, padding = same, activation = tanh, trainable = false)(c);
        let c = Conv2DTranspose(2, 2, strides = 2, activation = tanh, trainable = false)(c);
        let c = Conv2D(2, 1, activation = tanh)(c);
        output y = Dense(3, activation = softmax)(flatten(c));
    }

    /// A frozen Conv1D (causal, dilated) between trained layers.
    struct FrozenSequence {
        input steps: [10, 3];
        let h = Conv1D(4, 3, padding = causal, dilation_rate = 2, activation = tanh, trainable = false)(steps);
        let h = Conv1D(3, 2, activation = tanh)(h);
        output y = Dense(2, activation = tanh)(flatten(h));
    }
}

fn lines_with(summary: &str, prefix: &str) -> String {
    summary
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{summary}"))
        .to_string()
}

#[test]
fn frozen_weights_count_as_non_trainable_as_keras() {
    // Keras 3.15.1: Model(Input((784,)), Dense(10, trainable=False)).
    assert_eq!(FrozenDense::PARAM_COUNT, 7850);
    assert_eq!(FrozenDense::TRAINABLE_PARAM_COUNT, 0);
    assert_eq!(FrozenDense::NON_TRAINABLE_PARAM_COUNT, 7850);
    let summary = FrozenDense::summary();
    assert_eq!(lines_with(&summary, "Trainable params"), "Trainable params: 0");
    assert_eq!(
        lines_with(&summary, "Non-trainable params"),
        "Non-trainable params: 7,850"
    );

    // Keras: conv 112 + batch norm 16 frozen, dense 1,450 trained.
    assert_eq!(FrozenFeatures::PARAM_COUNT, 1578);
    assert_eq!(FrozenFeatures::TRAINABLE_PARAM_COUNT, 1450);
    assert_eq!(FrozenFeatures::NON_TRAINABLE_PARAM_COUNT, 128);
    let summary = FrozenFeatures::summary();
    assert_eq!(lines_with(&summary, "Total params"), "Total params: 1,578");
    assert_eq!(
        lines_with(&summary, "Trainable params"),
        "Trainable params: 1,450"
    );
    assert_eq!(
        lines_with(&summary, "Non-trainable params"),
        "Non-trainable params: 128"
    );
    // Rows keep each layer's whole count, as Keras's do.
    let params_cell = |row: &str| row.split_whitespace().nth(6).unwrap_or("").to_string();
    assert_eq!(params_cell(&lines_with(&summary, "conv2d_1 (Conv2D)")), "112");
    assert_eq!(params_cell(&lines_with(&summary, "batch_normalization_1")), "16");

    // Freezing moves counts between the two lines, never changes the total.
    assert_eq!(Tower::PARAM_COUNT, FrozenTower::PARAM_COUNT);
    // body 3x3x3x4+4, body_bn 4x4, body_ln 2x4, neck (4x4x4)x5+5.
    let frozen_part = 112 + 16 + 8 + 325;
    assert_eq!(Tower::NON_TRAINABLE_PARAM_COUNT, 8, "moving statistics only");
    assert_eq!(FrozenTower::NON_TRAINABLE_PARAM_COUNT, frozen_part);
    for p in FrozenTower::SPEC.params {
        let frozen_layer = ["body.", "body_bn.", "body_ln.", "neck."]
            .iter()
            .any(|l| p.key.starts_with(l));
        assert_eq!(p.trainable, !frozen_layer, "{}", p.key);
        let keras_trainable_kind = !p.key.contains("moving_");
        assert_eq!(p.frozen, frozen_layer && keras_trainable_kind, "{}", p.key);
    }
}

fn tower_data(seed: u64) -> Dataset {
    let mut rng = common::rng(seed);
    let n = 48;
    let x = Array4::from_shape_vec((n, 6, 6, 2), common::random_vec(&mut rng, n * 72)).unwrap();
    let labels: Vec<usize> = (0..n).map(|i| (i * 7 + seed as usize) % 3).collect();
    let mut y = Array2::<f32>::zeros((n, 3));
    for (i, &l) in labels.iter().enumerate() {
        y[[i, l]] = 1.0;
    }
    Dataset::new(x, y).unwrap()
}

fn fit<M: Model>(net: &mut M, optimizer: impl Optimizer, data: &Dataset) {
    let mut trainer = Trainer::new(optimizer, Loss::CategoricalCrossentropy);
    let config = FitConfig {
        epochs: 3,
        batch_size: 8,
        seed: 3,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    trainer.fit(net, data, None, &config, &mut []).unwrap();
}

/// The values of every tensor, by key.
fn tensors<M: Model>(net: &M) -> Vec<(&'static str, Vec<f32>)> {
    M::SPEC
        .params
        .iter()
        .map(|p| {
            let buffer = if p.trainable { net.params() } else { net.state() };
            (p.key, buffer[p.offset..p.offset + p.len].to_vec())
        })
        .collect()
}

#[test]
fn training_leaves_frozen_weights_bit_identical_and_trains_the_others() {
    let data = tower_data(1);
    for optimizer in 0..3 {
        let mut net = FrozenTower::new(&mut common::rng(5));
        let before = tensors(&net);
        match optimizer {
            0 => fit(&mut net, Adam::new(1e-2), &data),
            1 => fit(&mut net, Sgd::new(0.1), &data),
            _ => fit(&mut net, RmsProp::new(1e-2), &data),
        }
        let after = tensors(&net);
        for ((key, old), (_, new)) in before.iter().zip(&after) {
            let frozen = ["body", "neck"].iter().any(|l| key.starts_with(l));
            if frozen {
                // Bitwise: no optimizer step, no moving-statistics update.
                let same = old.iter().zip(new).all(|(a, b)| a.to_bits() == b.to_bits());
                assert!(same, "optimizer {optimizer}: frozen `{key}` changed");
            } else {
                assert_ne!(old, new, "optimizer {optimizer}: trainable `{key}` did not train");
            }
        }
    }
}

#[test]
fn a_frozen_batch_normalization_runs_in_inference_mode_as_keras_3() {
    let mut net = FrozenFeatures::new(&mut common::rng(2));
    // Moving statistics far from the batch's: modes would differ.
    let bn = FrozenFeatures::SPEC
        .param("batch_normalization_1.moving_mean")
        .unwrap();
    net.state_mut()[bn.offset..bn.offset + bn.len].copy_from_slice(&[0.5, -1.0, 2.0, 0.0]);
    let x = common::random_vec(&mut common::rng(3), 4 * 8 * 8 * 3);
    net.forward_slices(4, &[&x], Mode::Train).unwrap();
    let trained = net.output(0).unwrap().to_vec();
    let state_after_train = net.state().to_vec();
    net.forward_slices(4, &[&x], Mode::Infer).unwrap();
    assert_eq!(
        trained,
        net.output(0).unwrap(),
        "training-mode output is inference output"
    );
    assert_eq!(state_after_train, net.state(), "moving statistics did not move");
    assert_eq!(
        &net.state()[bn.offset..bn.offset + bn.len],
        &[0.5, -1.0, 2.0, 0.0]
    );
}

#[test]
fn gradients_flow_through_frozen_layers_as_finite_differences_say() {
    let mut net = FrozenMiddle::new(&mut common::rng(8));
    // Only the two trained layers have parameter gradients.
    let trained: usize = (4 * 3 + 3) + (6 * 2 + 2);
    assert_eq!(FrozenMiddle::TRAINABLE_PARAM_COUNT, trained);
    // Input gradients reach the image through every frozen layer; the
    // trained convolution's through the frozen dense layer after it.
    common::check_network(&mut net, 3, 11);
    assert_eq!(net.param_grads().len(), trained);
}

/// The frozen 3x3 convolutions' input-gradient-only backward on Winograd
/// (the cost rule keeps layers this small direct), both tiles.
#[test]
fn gradients_flow_through_frozen_winograd_convolutions() {
    use nn::runtime::conv_algorithm::{self, Choice};
    use nn::runtime::winograd::Tile;
    for tile in [Tile::F2, Tile::F4] {
        conv_algorithm::force(Some(Choice::Winograd(tile)));
        common::check_network(&mut FrozenMiddle::new(&mut common::rng(9)), 3, 12);
    }
    conv_algorithm::force(None);
}

#[test]
fn fine_tuning_moves_weights_between_a_network_and_its_frozen_variant() {
    let dir = common::TempDir::new("frozen-fine-tuning");
    let data = tower_data(4);
    // Train the whole tower, save it.
    let mut full = Tower::new(&mut common::rng(6));
    fit(&mut full, Adam::new(1e-2), &data);
    let trained_path = dir.path().join("tower.safetensors");
    full.save_weights(&trained_path).unwrap();
    // Load into the frozen variant: same architecture fingerprint.
    let mut frozen = FrozenTower::new(&mut common::rng(99));
    frozen.load_weights_of_other_network(&trained_path).unwrap();
    assert_eq!(
        tensors(&full).iter().map(|t| &t.1).collect::<Vec<_>>(),
        tensors(&frozen).iter().map(|t| &t.1).collect::<Vec<_>>()
    );
    let x = common::random_vec(&mut common::rng(7), 2 * 72);
    full.forward_slices(2, &[&x], Mode::Infer).unwrap();
    frozen.forward_slices(2, &[&x], Mode::Infer).unwrap();
    assert_eq!(full.output(0).unwrap(), frozen.output(0).unwrap());
    // Train the head more; the frozen body stays as trained.
    fit(&mut frozen, Adam::new(1e-2), &tower_data(5));
    for ((key, a), (_, b)) in tensors(&full).iter().zip(&tensors(&frozen)) {
        if ["body", "neck"].iter().any(|l| key.starts_with(l)) {
            assert_eq!(a, b, "`{key}` was frozen");
        } else {
            assert_ne!(a, b, "`{key}` trained on");
        }
    }
    // And back: the fine-tuned file loads into the unfrozen network.
    let tuned_path = dir.path().join("tuned.safetensors");
    frozen.save_weights(&tuned_path).unwrap();
    let mut again = Tower::new(&mut common::rng(1));
    again.load_weights_of_other_network(&tuned_path).unwrap();
    again.forward_slices(2, &[&x], Mode::Infer).unwrap();
    frozen.forward_slices(2, &[&x], Mode::Infer).unwrap();
    assert_eq!(again.output(0).unwrap(), frozen.output(0).unwrap());
}

/// The convolution family frozen: its weights count as non-trainable, sit
/// in the state buffer, get no gradient and stay bit-identical through
/// training, while the gradient reaches the input through them.
#[test]
fn the_frozen_convolution_family_passes_gradients_and_keeps_its_weights() {
    // 1x1 conv 2 -> 2 with bias, Dense on 12x12x2 = 288 inputs.
    let trained = (2 * 2 + 2) + (288 * 3 + 3);
    assert_eq!(FrozenFamily::TRAINABLE_PARAM_COUNT, trained);
    assert_eq!(
        FrozenFamily::NON_TRAINABLE_PARAM_COUNT,
        FrozenFamily::PARAM_COUNT - trained
    );
    // Dilated 3x3x4x4+4, grouped 3x3x2x4+4, depthwise 3x3x4x2+8,
    // separable 3x3x8 + 8x3 + 3, transposed 2x2x2x3+2.
    assert_eq!(FrozenFamily::NON_TRAINABLE_PARAM_COUNT, 148 + 76 + 80 + 99 + 26);
    let mut net = FrozenFamily::new(&mut common::rng(21));
    common::check_network(&mut net, 2, 22);
    assert_eq!(net.param_grads().len(), trained);

    assert_eq!(
        FrozenSequence::TRAINABLE_PARAM_COUNT,
        (2 * 4 * 3 + 3) + (9 * 3 * 2 + 2)
    );
    assert_eq!(FrozenSequence::NON_TRAINABLE_PARAM_COUNT, 3 * 3 * 4 + 4);
    let mut seq = FrozenSequence::new(&mut common::rng(23));
    common::check_network(&mut seq, 3, 24);

    let n = 16;
    let mut rng = common::rng(25);
    let x = Array4::from_shape_vec((n, 6, 6, 4), common::random_vec(&mut rng, n * 144)).unwrap();
    let mut y = Array2::<f32>::zeros((n, 3));
    for i in 0..n {
        y[[i, i % 3]] = 1.0;
    }
    let data = Dataset::new(x, y).unwrap();
    let before = tensors(&net);
    fit(&mut net, Adam::new(1e-2), &data);
    let after = tensors(&net);
    for ((key, old), (_, new)) in before.iter().zip(&after) {
        let spec = FrozenFamily::SPEC.param(key).unwrap();
        if spec.frozen {
            let same = old.iter().zip(new).all(|(a, b)| a.to_bits() == b.to_bits());
            assert!(same, "frozen `{key}` changed");
        } else {
            assert_ne!(old, new, "trainable `{key}` did not train");
        }
    }
}
