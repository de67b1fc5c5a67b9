use nn::prelude::*;

network! {
    // Each layer is within range on its own; together they are not.
    struct TooManyInTotal {
        input x: [65536];
        let h = Dense(40000)(x);
        let h = Dense(40000)(h);
        output y = Dense(40000)(h);
    }
}

fn main() {}
