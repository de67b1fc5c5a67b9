//! The lecture's residual network on Fashion-MNIST (28x28 greyscale images,
//! 10 classes), written once for the examples and tests that train it.
//! Included with `#[path = ".../examples/networks/fashion_residual.rs"] mod
//! fashion_residual;`.

use nn::network;

network! {
    /// `a[l+2] = relu(z[l+2] + a[l])`: two convolutions and a skip connection.
    fn residual_block(x, n) {
        let a = Conv2D(n, 3, padding = same, activation = relu)(x);
        let z = Conv2D(n, 3, padding = same)(a);
        relu(add(z, x))
    }

    /// The lecture's residual network, on 28x28 greyscale images, 10 classes.
    pub struct ResidualNet {
        input x: [28, 28, 1];
        let x0 = Conv2D(16, 3, padding = same, activation = relu)(x);
        let x1 = residual_block(x0, 16);
        let x2 = Conv2D(32, 3, padding = same, activation = relu)(x1);
        let x2 = MaxPooling2D(2)(x2);
        let x2 = residual_block(x2, 32);
        let x2 = MaxPooling2D(2)(x2);
        output y = Dense(10, activation = softmax)(flatten(x2));
    }
}
