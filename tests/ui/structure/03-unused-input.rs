use nn::network;

network! {
    pub struct Net {
        input x: [8];
        input mask: [8];
        output y = Dense(4)(x);
    }
}

fn main() {}
