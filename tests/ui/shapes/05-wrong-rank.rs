use nn::network;

network! {
    pub struct Net {
        input x: [28, 28, 1];
        let f = flatten(x);
        output y = Conv2D(8, 3)(f);
    }
}

fn main() {}
