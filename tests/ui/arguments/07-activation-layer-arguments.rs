use nn::network;

network! {
    struct Net {
        input x: [4];
        let a = LeakyReLU(alpha = 0.3, negative_slope = 0.2)(x);
        let b = LeakyReLU(negative_slope = -0.1)(x);
        let c = ReLU(threshold = -1.0)(x);
        let d = ReLU(max_value = 0.5, threshold = 1.0)(x);
        let e = Dense(4, activation = gelu)(x);
        output y = concat(a, b, c, d, e);
    }
}

fn main() {}
