//! The typed methods a network gets (`predict`, `forward_train`,
//! `backward`) must compile whatever the user named the tensors: a name
//! that is also a constant in scope, a raw identifier, a non-snake-case
//! name under `#![deny(warnings)]`, a network declared inside a function.
#![deny(warnings)]

use nn::ndarray::Array2;
use nn::Model as _;

fn rng() -> nn::rand::rngs::StdRng {
    <nn::rand::rngs::StdRng as nn::rand::SeedableRng>::seed_from_u64(1)
}

/// Inputs named like constants in scope: as parameter names they would be
/// patterns matching the constants.
mod names_of_constants {
    pub const LEFT: usize = 1;
    pub const RIGHT: f32 = 2.0;
    nn::network! {
        pub struct Pair {
            input LEFT: [4];
            input RIGHT: [4];
            output Y = Dense(2)(add(LEFT, RIGHT));
        }
    }
}

/// Raw identifiers as tensor names.
mod raw_names {
    nn::network! {
        pub struct Raw {
            input r#type: [4];
            output r#fn = Dense(2)(r#type);
        }
    }
}

#[test]
fn inputs_named_like_constants_in_scope() {
    let mut net = names_of_constants::Pair::new(&mut rng());
    let a = Array2::<f32>::ones((3, 4));
    let y = net.forward_train(a.view(), a.view()).unwrap();
    assert_eq!(y.shape(), &[3, 2]);
    net.backward(Array2::<f32>::ones((3, 2)).view()).unwrap();
    assert!(net.param_grads().iter().any(|&g| g != 0.0));
    // The constants are untouched and still usable next to the network.
    assert_eq!(names_of_constants::LEFT, 1);
    assert_eq!(names_of_constants::RIGHT, 2.0);
}

#[test]
fn raw_identifiers_as_tensor_names() {
    let mut net = raw_names::Raw::new(&mut rng());
    let y = net.predict(Array2::<f32>::ones((2, 4)).view()).unwrap();
    assert_eq!(y.shape(), &[2, 2]);
}

#[test]
fn network_declared_inside_a_function() {
    nn::network! {
        struct Local {
            input x: [4];
            output y = Dense(2)(x);
        }
    }
    let mut net = Local::new(&mut rng());
    assert_eq!(net.params().len(), 10);
    assert_eq!(
        net.predict(Array2::<f32>::ones((1, 4)).view()).unwrap().shape(),
        &[1, 2]
    );
}
