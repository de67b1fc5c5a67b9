//! The lecture's residual network trained on Fashion-MNIST.
//!
//! `cargo run --release --example residual` uses the vendored subset;
//! add `-- --full` (or set NN_FASHION_DIR) for the full 70,000 images,
//! `-- --epochs N` to change the number of epochs.

mod common;

use nn::prelude::*;
use nn::rand::SeedableRng;

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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    println!("{}", ResidualNet::summary());
    let run = common::prepare("residual", &args)?;
    let epochs = common::flag(&args, "--epochs", 5);
    let batch = common::flag(&args, "--batch-size", 32);
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(42);
    let mut net = ResidualNet::new(&mut rng);
    let fresh = ResidualNet::new(&mut rng);
    common::train_and_report(&mut net, fresh, &run, epochs, batch)
}
