use nn::prelude::*;

network! {
    fn wide(x, n) {
        Dense(n * n)(x)
    }

    struct Overflow {
        input x: [4];
        let h = Dense(-(-9223372036854775807 - 1))(x);
        output y = wide(h, 4294967296);
    }
}

fn main() {}
