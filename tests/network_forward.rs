//! A generated network's forward pass against the same network composed by
//! hand from the runtime's kernels — an independent path that checks the
//! expansion's wiring: memory plan, in-place activations, the fused
//! residual add, flatten aliasing.

mod common;

use nn::prelude::*;
use nn::runtime::{
    activation, merge, Activation, Conv2d, Dense, Padding, Pool2d, PoolKind, Window2d, Workspace,
};

network! {
    struct Block {
        input x: [6, 6, 4];
        let a = Conv2D(4, 3, padding = same, activation = relu)(x);
        let z = Conv2D(4, 3, padding = same)(a);
        let r = relu(add(z, x));
        let p = MaxPooling2D(2)(r);
        output y = Dense(3, activation = softmax)(flatten(p));
    }
}

fn conv(window: Window2d, cin: usize, filters: usize, activation: Activation) -> Conv2d {
    Conv2d {
        window,
        in_channels: cin,
        filters,
        activation,
    }
}

#[test]
fn generated_forward_matches_hand_composed_kernels() {
    let mut net = Block::new(&mut common::rng(4));
    let batch = 3;
    let x = common::random_vec(&mut common::rng(5), batch * 6 * 6 * 4);
    net.forward_slices(batch, &[&x], Mode::Infer).unwrap();
    let generated = net.output(0).unwrap().to_vec();

    let spec = Block::SPEC;
    let param = |key: &str| {
        let p = spec.param(key).unwrap();
        &net.params()[p.offset..p.offset + p.len]
    };
    let same3 = Window2d {
        in_h: 6,
        in_w: 6,
        kernel_h: 3,
        kernel_w: 3,
        stride_h: 1,
        stride_w: 1,
        padding: Padding::Same,
    };
    let mut ws = Workspace::new();
    let mut a = vec![0.0; batch * 144];
    conv(same3, 4, 4, Activation::Relu)
        .forward(
            batch,
            &x,
            param("conv2d_1.kernel"),
            Some(param("conv2d_1.bias")),
            &mut a,
            &mut ws,
        )
        .unwrap();
    let mut z = vec![0.0; batch * 144];
    conv(same3, 4, 4, Activation::Linear)
        .forward(
            batch,
            &a,
            param("conv2d_2.kernel"),
            Some(param("conv2d_2.bias")),
            &mut z,
            &mut ws,
        )
        .unwrap();
    let mut sum = vec![0.0; batch * 144];
    merge::add_forward(&[&z, &x], &mut sum).unwrap();
    let mut r = vec![0.0; batch * 144];
    activation::forward(Activation::Relu, &sum, &mut r, 4).unwrap();
    let pool = Pool2d {
        kind: PoolKind::Max,
        window: Window2d {
            in_h: 6,
            in_w: 6,
            kernel_h: 2,
            kernel_w: 2,
            stride_h: 2,
            stride_w: 2,
            padding: Padding::Valid,
        },
        channels: 4,
    };
    let mut p = vec![0.0; batch * 36];
    pool.forward(batch, &r, &mut p).unwrap();
    let mut y = vec![0.0; batch * 3];
    Dense {
        inputs: 36,
        units: 3,
        activation: Activation::Softmax,
    }
    .forward(
        batch,
        &p,
        param("dense_1.kernel"),
        Some(param("dense_1.bias")),
        &mut y,
        &mut ws,
    )
    .unwrap();
    common::assert_close("generated vs composed", &generated, &y, 1e-5);
}

network! {
    struct Branches {
        input x: [5, 5, 3];
        let a = Conv2D(2, 1, activation = relu)(x);
        let b = Conv2D(3, 1, activation = relu)(x);
        let b = Conv2D(4, 3, padding = same, activation = tanh)(b);
        let d = MaxPooling2D(3, strides = 1, padding = same)(x);
        output y = concat(a, b, d);
    }
}

#[test]
fn convolutions_written_into_a_concatenation_match_the_copied_form() {
    let mut net = Branches::new(&mut common::rng(6));
    let batch = 2;
    let x = common::random_vec(&mut common::rng(7), batch * 75);
    net.forward_slices(batch, &[&x], Mode::Infer).unwrap();
    let generated = net.output(0).unwrap().to_vec();

    let spec = Branches::SPEC;
    let param = |key: &str| {
        let p = spec.param(key).unwrap();
        &net.params()[p.offset..p.offset + p.len]
    };
    let window = |k: usize, padding: Padding| Window2d {
        in_h: 5,
        in_w: 5,
        kernel_h: k,
        kernel_w: k,
        stride_h: 1,
        stride_w: 1,
        padding,
    };
    let mut ws = Workspace::new();
    let mut a = vec![0.0; batch * 25 * 2];
    conv(window(1, Padding::Valid), 3, 2, Activation::Relu)
        .forward(
            batch,
            &x,
            param("conv2d_1.kernel"),
            Some(param("conv2d_1.bias")),
            &mut a,
            &mut ws,
        )
        .unwrap();
    let mut b1 = vec![0.0; batch * 25 * 3];
    conv(window(1, Padding::Valid), 3, 3, Activation::Relu)
        .forward(
            batch,
            &x,
            param("conv2d_2.kernel"),
            Some(param("conv2d_2.bias")),
            &mut b1,
            &mut ws,
        )
        .unwrap();
    let mut b = vec![0.0; batch * 25 * 4];
    conv(window(3, Padding::Same), 3, 4, Activation::Tanh)
        .forward(
            batch,
            &b1,
            param("conv2d_3.kernel"),
            Some(param("conv2d_3.bias")),
            &mut b,
            &mut ws,
        )
        .unwrap();
    let mut d = vec![0.0; batch * 25 * 3];
    Pool2d {
        kind: PoolKind::Max,
        window: window(3, Padding::Same),
        channels: 3,
    }
    .forward(batch, &x, &mut d)
    .unwrap();
    let mut y = vec![0.0; batch * 25 * 9];
    merge::concat_forward(batch * 25, &[2, 4, 3], &[&a, &b, &d], &mut y).unwrap();
    common::assert_close("generated vs composed", &generated, &y, 1e-5);
}
