use nn::network;

network! {
    pub struct Net {
        input x: [64, 64, 16];
        let z = Conv2D(32, 3, padding = same)(x);
        output y = add(z, x);
    }
}

fn main() {}
