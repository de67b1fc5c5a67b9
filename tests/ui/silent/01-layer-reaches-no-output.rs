use nn::prelude::*;

network! {
    struct Forgotten {
        input x: [8];
        let h = Dense(8, activation = relu)(x);
        let side = Dense(4)(h);
        let unused = Dense(3);
        output y = Dense(2)(h);
    }
}

fn main() {}
