use nn::network;

network! {
    pub struct Net {
        input x: [8, 8, 3];
        output y = Conv3D(8, 3)(x);
    }
}

fn main() {}
