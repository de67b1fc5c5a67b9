use nn::prelude::*;

network! {
    struct Endless {
        input x: [4];
        let h = x;
        for _ in 9223372036854775807..=9223372036854775807 {
            h = Dense(4)(h);
        }
        output y = h;
    }
}

fn main() {}
