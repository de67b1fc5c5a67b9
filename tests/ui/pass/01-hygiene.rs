//! Generated code names everything by absolute path and keeps its locals
//! apart from the user's: none of these user definitions breaks it.
#![allow(dead_code, non_camel_case_types)]

/// The user's own `Result`, `Some`, `None`, `String`, ... in scope.
mod user_names {
    pub enum Choice {
        Some,
        None,
    }
    pub use Choice::*;

    pub type Result<T> = std::result::Result<T, ()>;
    pub type Option = ();
    pub struct String;
    pub struct Vec;
    pub struct Box;
    pub trait Model {}
    pub type f32 = u8;
    pub type usize = u8;

    nn::network! {
        fn join(a, b) {
            Dense(2, activation = softmax)(add(a, b))
        }

        // Inputs named like the typed methods' own locals.
        pub struct Collides {
            input mode: [4];
            input outs: [4];
            output y = join(mode, outs);
        }
    }
}

/// Networks named like the standard prelude's types.
mod network_names {
    nn::network! {
        pub struct Result {
            input x: [4];
            output y = Dense(2)(x);
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
}

/// A custom layer whose value is named like what the constructor does with
/// it (`model`, `seeded`, `error`), with `Box` and `Vec` shadowed. (Lower-
/// case constants named like the generated passes' locals, `core`, `n`,
/// `params`, would still be taken for patterns there.)
mod custom_names {
    #![allow(non_upper_case_globals)]
    pub struct Box;
    pub struct Vec;
    pub struct Negate;
    impl nn::CustomLayer for Negate {
        fn class_name(&self) -> &str {
            "Negate"
        }
        fn output_shape(&self, input: &[usize]) -> std::result::Result<std::vec::Vec<usize>, std::string::String> {
            Ok(input.to_vec())
        }
        fn forward(&self, _batch: usize, x: &[f32], _w: &[&[f32]], y: &mut [f32]) {
            for (y, x) in y.iter_mut().zip(x) {
                *y = -x;
            }
        }
        fn backward(
            &self,
            _batch: usize,
            _x: &[f32],
            _w: &[&[f32]],
            _y: &[f32],
            dy: &[f32],
            dx: &mut [f32],
            _dw: &mut [&mut [f32]],
        ) {
            for (dx, dy) in dx.iter_mut().zip(dy) {
                *dx -= dy;
            }
        }
    }
    pub const model: Negate = Negate;
    pub const seeded: Negate = Negate;
    pub const error: Negate = Negate;

    nn::network! {
        pub struct WithCustom {
            input x: [4];
            let a = Custom(model, output = [4])(x);
            let b = Custom(Negate, output = [4])(a);
            let c = Custom(Negate, output = [4])(b);
            let d = Custom(seeded, output = [4])(c);
            output y = Dense(2)(Custom(error, output = [4])(d));
        }
    }
}

fn main() {
    use nn::Model as _;
    let mut rng = <nn::rand::rngs::StdRng as nn::rand::SeedableRng>::seed_from_u64(1);
    let mut net = user_names::Collides::new(&mut rng);
    let a = nn::ndarray::Array2::<f32>::zeros((2, 4));
    let out = net.predict(a.view(), a.view()).unwrap();
    assert_eq!(out.shape(), &[2, 2]);
    let mut r = network_names::Result::new(&mut rng);
    assert_eq!(r.predict(a.view()).unwrap().shape(), &[2, 2]);
    let _ = network_names::Option::new(&mut rng).params().len();
    let _ = network_names::String::summary();
    let mut custom = custom_names::WithCustom::try_new(&mut rng).unwrap();
    assert_eq!(custom.predict(a.view()).unwrap().shape(), &[2, 2]);
}
