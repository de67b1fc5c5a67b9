//! The typed `backward` called at the wrong moment says what is missing (a
//! training-mode forward pass), not that the gradient's batch differs from 0.

mod common;

use nn::ndarray::Array2;
use nn::prelude::*;

network! {
    struct Small {
        input x: [4];
        output y = Dense(3)(x);
    }
}

fn assert_no_forward(result: Result<(), NnError>) {
    let err = result.unwrap_err();
    assert!(matches!(err, NnError::NoForward { .. }), "{err}");
    assert!(
        err.to_string().contains("training-mode forward pass first"),
        "{err}"
    );
}

#[test]
fn typed_backward_without_a_training_forward_says_so() {
    let grad = Array2::<f32>::ones((3, 3));
    let mut net = Small::new(&mut common::rng(1));
    // Never ran forward.
    assert_no_forward(net.backward(grad.view()));
    // Ran an inference forward only.
    net.predict(Array2::<f32>::ones((3, 4)).view()).unwrap();
    assert_no_forward(net.backward(grad.view()));
    // Ran a training forward, then freed its memory.
    net.forward_train(Array2::<f32>::ones((3, 4)).view()).unwrap();
    net.release_memory();
    assert_no_forward(net.backward(grad.view()));
    // After a training forward of 3 samples, a gradient of 2 is a mismatch.
    net.forward_train(Array2::<f32>::ones((3, 4)).view()).unwrap();
    let err = net.backward(Array2::<f32>::ones((2, 3)).view()).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::BatchMismatch {
                expected: 3,
                actual: 2,
                ..
            }
        ),
        "{err}"
    );
    net.backward(grad.view()).unwrap();
}
