use nn::network;

network! {
    pub struct Net {
        input x: [8];
        output y = Dense(4, relu, true, glorot_uniform, "d", 7)(x);
    }
}

fn main() {}
