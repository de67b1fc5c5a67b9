//! The fused softmax + cross-entropy path gives the same parameter gradients
//! as the plain one (the loss's gradient with respect to the probabilities,
//! sent back through the softmax), whether the softmax is fused into the
//! last layer or a standalone `softmax(...)` layer. Also covers Dense on a
//! feature map (last axis), average pooling and batch norm on dense units.

mod common;

use nn::prelude::*;
use nn::runtime::train::loss::Loss as LossKind;

network! {
    struct FusedHead {
        input x: [6, 6, 2];
        let h = Dense(5, activation = tanh)(x);
        let h = AveragePooling2D(2)(h);
        let h = Dense(8)(flatten(h));
        let h = BatchNormalization()(h);
        output y = Dense(4, activation = softmax)(relu(h));
    }

    struct StandaloneSoftmax {
        input x: [6, 6, 2];
        let h = Conv2D(3, 3, padding = same, activation = tanh)(x);
        let h = GlobalAveragePooling2D()(h);
        output y = softmax(Dense(4)(h));
    }
}

fn compare<M: Model>(net: &mut M) {
    assert!(M::OUTPUT_ACTIVATIONS[0].is_some(), "the output is marked fusable");
    let batch = 5;
    let x = common::random_vec(&mut common::rng(2), batch * 72);
    let target: Vec<f32> = (0..batch * 4)
        .map(|i| if i % 4 == (i / 4) % 4 { 1.0 } else { 0.0 })
        .collect();

    let gradients = |net: &mut M, fused: bool| -> Vec<f32> {
        net.forward_slices(batch, &[&x], Mode::Train).unwrap();
        let mut g = vec![0.0; batch * 4];
        LossKind::CategoricalCrossentropy
            .evaluate(4, net.output(0).unwrap(), &target, fused, 1.0, Some(&mut g))
            .unwrap();
        net.core_mut().skip_output_activation = vec![fused];
        net.backward_slices(&[&g]).unwrap();
        net.core_mut().skip_output_activation = vec![false];
        net.param_grads().to_vec()
    };
    let plain = gradients(net, false);
    let fused = gradients(net, true);
    assert!(plain.iter().any(|&g| g != 0.0));
    common::assert_close("fused vs plain parameter gradients", &fused, &plain, 1e-3);
}

#[test]
fn fused_softmax_in_the_last_layer_matches_the_plain_gradient() {
    compare(&mut FusedHead::new(&mut common::rng(1)));
}

#[test]
fn fused_standalone_softmax_matches_the_plain_gradient() {
    compare(&mut StandaloneSoftmax::new(&mut common::rng(3)));
}

#[test]
fn networks_with_dense_on_feature_maps_and_batch_norm_pass_gradient_checks() {
    common::check_network(&mut FusedHead::new(&mut common::rng(4)), 3, 8);
    common::check_network(&mut StandaloneSoftmax::new(&mut common::rng(5)), 3, 9);
}
