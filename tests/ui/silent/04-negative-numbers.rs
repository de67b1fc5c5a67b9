use nn::prelude::*;

network! {
    struct Negative {
        input x: [-3];
        input z: [8, 8, 3];
        let h = Dropout(-0.5)(z);
        let h = BatchNormalization(momentum = -0.1)(h);
        let h = Conv2D(-16, 3)(h);
        output y = Dense(2)(flatten(h));
    }
}

fn main() {}
