//! The lecture's two networks (64x64x3 input, 6 classes), written once for
//! the examples and tests that use them (`tests/lecture.rs` checks them
//! against the lecture's Keras summaries). Included with
//! `#[path = ".../examples/networks/lecture.rs"] mod lecture;`.
#![allow(dead_code)]

use nn::network;

network! {
    /// The lecture's residual block: `a[l+2] = relu(z[l+2] + a[l])`.
    fn residual(x, n) {
        let a = Conv2D(n, 3, padding = same, activation = relu)(x);
        let z = Conv2D(n, 3, padding = same)(a);
        relu(add(z, x))
    }

    /// The lecture's inception module: four branches joined on channels.
    fn inception(x, n) {
        let a = Conv2D(n, 1, activation = relu)(x);
        let b = Conv2D(n, 1, activation = relu)(x);
        let b = Conv2D(n, 3, activation = relu, padding = same)(b);
        let c = Conv2D(n, 1, activation = relu)(x);
        let c = Conv2D(n, 5, activation = relu, padding = same)(c);
        let d = MaxPooling2D(3, strides = 1, padding = same)(x);
        let d = Conv2D(n, 1, activation = relu, padding = same)(d);
        concat([a, b, c, d])
    }

    pub struct ResidualNet {
        input x: [64, 64, 3];
        let x0 = Conv2D(16, (3, 3), strides = 1, padding = same, activation = relu)(x);
        let x1 = residual(x0, 16);
        let x2 = Conv2D(32, (3, 3), strides = 1, padding = same, activation = relu)(x1);
        let x2 = MaxPooling2D((2, 2))(x2);
        let x2 = residual(x2, 32);
        let x2 = MaxPooling2D((2, 2))(x2);
        output y = Dense(6, activation = softmax)(flatten(x2));
    }

    pub struct InceptionNet {
        input x: [64, 64, 3];
        let x1 = inception(x, 16);
        let x2 = MaxPooling2D(3, strides = 2)(x1);
        let x3 = inception(x2, 32);
        output y = Dense(6, activation = softmax)(flatten(x3));
    }
}
