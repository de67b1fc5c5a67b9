use nn::network;

network! {
    pub struct Net {
        input x: [8, 8, 3];
        let a = Conv2D(8, 3, padding = full)(x);
        let b = Conv2D(8, 3, activation = swishy)(x);
        let c = Conv2D(x, 3)(x);
        let d = Conv2D(8, 3, use_bias = 1)(x);
        output y = add(a, b, c, d);
    }
}

fn main() {}
