//! The lecture's residual network trained on Fashion-MNIST.
//!
//! `cargo run --release --example residual` uses the vendored subset;
//! add `-- --full` (or set NN_FASHION_DIR) for the full 70,000 images,
//! `-- --epochs N` to change the number of epochs.

#[path = "networks/fashion_residual.rs"]
mod fashion_residual;

mod common;

use fashion_residual::ResidualNet;
use nn::rand::SeedableRng;

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
