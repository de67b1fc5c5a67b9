use nn::network;

network! {
    pub struct Net {
        input x: [100000, 100000, 3];
        input v: [8];
        output y = Dense(4000000000)(v);
    }
}

fn main() {}
