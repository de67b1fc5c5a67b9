use nn::prelude::*;

network! {
    struct Typos {
        input x: [8, 8, 3];
        let h = Conv2d(8, 3, paddng = same)(x);
        let h = Dense(4, activation = softmx)(x);
        let h = MaxPool2d(2)(x);
        output y = Dense(2)(flatten(h));
    }
}

fn main() {}
