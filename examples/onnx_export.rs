//! Exports networks to ONNX with inputs and nn's outputs beside each file,
//! so that any other ONNX runtime can be compared with nn:
//!
//! ```text
//! cargo run --release --example onnx_export
//! python tools/onnx/compare_with_onnxruntime.py target/examples/onnx
//! ```
//!
//! The lecture's two networks (64x64x3, 6 classes) and a network using every
//! layer kind, each with seeded random weights (batch-norm statistics
//! included) and 8 random inputs.

#[path = "networks/lecture.rs"]
mod lecture;

use std::path::Path;

use lecture::{InceptionNet, ResidualNet};
use nn::ndarray::{ArrayD, IxDyn};
use nn::prelude::*;
use nn::rand::rngs::StdRng;
use nn::rand::{Rng, SeedableRng};

network! {
    struct EveryLayer {
        input image: [10, 10, 3];
        input steps: [4, 3];
        let c1 = Conv2D(8, 3, strides = 2, padding = same, activation = leaky_relu)(image);
        let c2 = Conv2D(8, 1, use_bias = false, activation = tanh)(c1);
        let c2 = BatchNormalization()(c2);
        let s = relu6(add(c1, c2));
        let p1 = MaxPooling2D(2, strides = 2, padding = same)(s);
        let p2 = AveragePooling2D(2, strides = 2, padding = same)(s);
        let p3 = AveragePooling2D(3, strides = 1)(s);
        let joined = concat(p1, p2, p3);
        let c3 = Conv2D(6, (2, 3), strides = (1, 2), activation = sigmoid)(joined);
        let g = GlobalAveragePooling2D()(joined);
        let t = BatchNormalization()(Dense(5, activation = relu)(steps));
        let d = Dense(16, activation = relu)(concat(g, flatten(c3), flatten(t)));
        let d = BatchNormalization(epsilon = 0.01)(Dropout(0.5)(d));
        let d = sigmoid(tanh(leaky_relu(Activation(linear)(Dense(10, activation = relu6)(d)))));
        output probs = Dense(5, activation = softmax)(d);
        output heat = softmax(Conv2D(2, 1, padding = same)(s));
    }
}

/// Random weights, biases and batch-norm statistics (positive variances).
/// Kernels have variance 1 / fan-in so activations stay of order one and
/// the softmax outputs are not saturated (where every runtime agrees on 0s
/// and 1s whatever it computes).
fn randomize<M: Model>(net: &mut M, rng: &mut StdRng) {
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

fn export<M: Model>(net: &mut M, dir: &Path, rng: &mut StdRng) -> Result<(), Box<dyn std::error::Error>> {
    randomize(net, rng);
    let name = M::SPEC.name;
    let onnx = dir.join(format!("{name}.onnx"));
    net.save_onnx(&onnx)?;
    let inputs: Vec<ArrayD<f32>> = M::SPEC
        .inputs
        .iter()
        .map(|t| {
            let mut shape = vec![8];
            shape.extend_from_slice(t.shape);
            ArrayD::from_shape_fn(IxDyn(&shape), |_| rng.random_range(-1.0..1.0))
        })
        .collect();
    let views: Vec<_> = inputs.iter().map(|a| a.view()).collect();
    let outputs = net.forward_arrays(&views, Mode::Infer)?;
    let mut tensors: Vec<(String, &ArrayD<f32>)> = Vec::new();
    for (t, a) in M::SPEC.inputs.iter().zip(&inputs) {
        tensors.push((format!("input.{}", t.name), a));
    }
    for (t, a) in M::SPEC.outputs.iter().zip(&outputs) {
        tensors.push((format!("output.{}", t.name), a));
    }
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(key, a)| {
            (
                key.clone(),
                a.shape().to_vec(),
                a.iter().flat_map(|v| v.to_le_bytes()).collect(),
            )
        })
        .collect();
    let mut views = Vec::new();
    for (key, shape, data) in &bytes {
        views.push((
            key.clone(),
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)?,
        ));
    }
    std::fs::write(
        dir.join(format!("{name}.io.safetensors")),
        safetensors::serialize(views, None)?,
    )?;
    println!(
        "{}: {} parameters, {} bytes of ONNX",
        onnx.display(),
        M::SPEC.total_count(),
        std::fs::metadata(&onnx)?.len()
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/examples/onnx");
    std::fs::create_dir_all(&dir)?;
    let mut rng = StdRng::seed_from_u64(7);
    export(&mut ResidualNet::new(&mut rng), &dir, &mut rng)?;
    export(&mut InceptionNet::new(&mut rng), &dir, &mut rng)?;
    export(&mut EveryLayer::new(&mut rng), &dir, &mut rng)?;
    Ok(())
}
