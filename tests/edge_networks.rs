//! Networks at the edges of the grammar: an output that is an input, a
//! network without parameters, a tensor used as two outputs.

mod common;

use nn::ndarray::{Array2, Array4};
use nn::prelude::*;

network! {
    struct Identity {
        input x: [4];
        output y = x;
    }

    struct PoolOnly {
        input x: [4, 4, 2];
        output y = GlobalAveragePooling2D()(MaxPooling2D(2)(x));
    }

    struct SameTwice {
        input x: [3];
        let h = Dense(2, activation = tanh)(x);
        output a = h;
        output b = h;
    }
}

#[test]
fn an_input_can_be_an_output() {
    let mut net = Identity::new(&mut common::rng(1));
    assert_eq!(Identity::PARAM_COUNT, 0);
    let x = Array2::from_shape_fn((2, 4), |(i, j)| (i * 4 + j) as f32);
    assert_eq!(net.predict(x.view()).unwrap(), x);
    net.set_input_grads(true);
    net.forward_train(x.view()).unwrap();
    let g = Array2::from_elem((2, 4), 0.5f32);
    net.backward(g.view()).unwrap();
    assert_eq!(net.input_grad(0), Some(&[0.5; 8][..]));
}

#[test]
fn a_network_without_parameters_trains_without_error() {
    let mut net = PoolOnly::new(&mut common::rng(2));
    assert_eq!(PoolOnly::PARAM_COUNT, 0);
    let x = Array4::from_shape_fn((3, 4, 4, 2), |(n, h, w, c)| (n + h * 2 + w + c) as f32);
    let y = Array2::<f32>::zeros((3, 2));
    let data = Dataset::new(x, y).unwrap();
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::MeanSquaredError);
    let config = FitConfig {
        epochs: 2,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let history = trainer.fit(&mut net, &data, None, &config, &mut []).unwrap();
    assert_eq!(
        history.series("loss")[0],
        history.series("loss")[1],
        "nothing to learn, nothing changes"
    );
}

#[test]
fn one_tensor_as_two_outputs_adds_both_gradients() {
    let mut net = SameTwice::new(&mut common::rng(3));
    let x = Array2::from_elem((1, 3), 0.3f32);
    net.forward_train(x.view()).unwrap();
    let one = Array2::from_elem((1, 2), 1.0f32);
    let zero = Array2::zeros((1, 2));
    net.backward(one.view(), zero.view()).unwrap();
    let a_only = net.param_grads().to_vec();
    net.forward_train(x.view()).unwrap();
    net.backward(one.view(), one.view()).unwrap();
    let both = net.param_grads().to_vec();
    for (b, a) in both.iter().zip(&a_only) {
        assert!(
            (b - 2.0 * a).abs() < 1e-6,
            "both outputs' gradients add: {b} vs 2 x {a}"
        );
    }
}
