//! The lecture's inception network trained on Fashion-MNIST.
//!
//! `cargo run --release --example inception` uses the vendored subset;
//! add `-- --full` (or set NN_FASHION_DIR) for the full set,
//! `-- --epochs N` to change the number of epochs.

mod common;

use nn::prelude::*;
use nn::rand::SeedableRng;

network! {
    /// Four parallel branches (1x1; 1x1 then 3x3; 1x1 then 5x5; 3x3 max-pool
    /// then 1x1) joined along channels.
    fn inception_module(x, n) {
        let a = Conv2D(n, 1, activation = relu)(x);
        let b = Conv2D(n, 1, activation = relu)(x);
        let b = Conv2D(n, 3, activation = relu, padding = same)(b);
        let c = Conv2D(n, 1, activation = relu)(x);
        let c = Conv2D(n, 5, activation = relu, padding = same)(c);
        let d = MaxPooling2D(3, strides = 1, padding = same)(x);
        let d = Conv2D(n, 1, activation = relu, padding = same)(d);
        concat([a, b, c, d])
    }

    /// The lecture's inception network (modules of 16 and 32 filters per
    /// branch, as in its printed summary), on 28x28 greyscale, 10 classes.
    pub struct InceptionNet {
        input x: [28, 28, 1];
        let x1 = inception_module(x, 16);
        let x2 = MaxPooling2D(3, strides = 2)(x1);
        let x3 = inception_module(x2, 32);
        output y = Dense(10, activation = softmax)(flatten(x3));
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    println!("{}", InceptionNet::summary());
    let run = common::prepare("inception", &args)?;
    let epochs = common::flag(&args, "--epochs", 4);
    let batch = common::flag(&args, "--batch-size", 32);
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(42);
    let mut net = InceptionNet::new(&mut rng);
    let fresh = InceptionNet::new(&mut rng);
    common::train_and_report(&mut net, fresh, &run, epochs, batch)
}
