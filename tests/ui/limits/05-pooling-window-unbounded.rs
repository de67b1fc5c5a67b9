use nn::prelude::*;

network! {
    struct WidePool {
        input x: [28, 28, 1];
        let h = MaxPooling2D(99999999, strides = 1, padding = same)(x);
        output y = Dense(10)(flatten(h));
    }
}

fn main() {}
