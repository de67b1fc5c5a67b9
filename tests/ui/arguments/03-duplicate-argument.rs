use nn::network;

network! {
    pub struct Net {
        input x: [8, 8, 3];
        output y = Conv2D(8, 3, filters = 16)(x);
    }
}

fn main() {}
