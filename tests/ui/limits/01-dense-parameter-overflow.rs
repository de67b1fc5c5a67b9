use nn::prelude::*;

network! {
    struct Huge {
        input v: [4294967296];
        output y = Dense(4294967296)(v);
    }
}

fn main() {}
