use nn::prelude::*;

network! {
    struct LoopDoesNothing {
        input x: [16, 16, 3];
        let h = Conv2D(8, 3, padding = same)(x);
        for _ in 0..3 {
            let h = Conv2D(8, 3, padding = same, activation = relu)(h);
        }
        output y = Dense(10)(flatten(h));
    }
}

fn main() {}
