use nn::prelude::*;

network! {
    struct Nested {
        input x: [4];
        let h = x;
        for _ in 0..1000 {
            for _ in 0..1000 {
                h = Dense(4)(h);
            }
        }
        output y = h;
    }
}

fn main() {}
