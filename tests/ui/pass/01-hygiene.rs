//! Generated code names everything by absolute path and keeps its locals
//! apart from the user's: none of these user definitions breaks it.
#![allow(dead_code)]

enum Choice {
    Some,
    None,
}
use Choice::*;

type Result<T> = std::result::Result<T, ()>;
struct Vec;
struct Box;
trait Model {}
type f32 = u8;

nn::network! {
    pub struct Result {
        input mode: [4];
        input outs: [4];
        output y = nn_layer_output(mode, outs);
    }

    fn nn_layer_output(a, b) {
        Dense(2, activation = softmax)(add(a, b))
    }

    pub struct Option {
        input x: [4];
        output y = Dense(2)(x);
    }

    pub struct String {
        input x: [3, 3, 2];
        output y = Dense(2)(flatten(BatchNormalization()(Dropout(0.1)(x))));
    }
}

fn main() {
    use nn::Model as _;
    let mut rng = <nn::rand::rngs::StdRng as nn::rand::SeedableRng>::seed_from_u64(1);
    let mut net = Result::new(&mut rng);
    let a = nn::ndarray::Array2::<std::primitive::f32>::zeros((2, 4));
    let out = net.predict(a.view(), a.view()).unwrap();
    assert_eq!(out.shape(), &[2, 2]);
    let _ = (Option::new(&mut rng).params().len(), String::summary());
    let _ = (Some, None);
}
