use nn::network;

network! {
    fn stem(x) {
        let a = Conv2D(8, 3)(x);
    }

    pub struct Net {
        input x: [8, 8, 3];
        output y = stem(x);
    }
}

fn main() {}
