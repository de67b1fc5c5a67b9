use nn::network;

network! {
    pub struct Net {
        input x: [64, 64, 3];
        let a = Conv2D(8, 1)(x);
        let b = MaxPooling2D(2)(x);
        output y = concat(a, b);
    }
}

fn main() {}
