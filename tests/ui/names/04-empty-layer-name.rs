use nn::network;

network! {
    pub struct Net {
        input x: [8];
        output y = Dense(4, name = "")(x);
    }
}

fn main() {}
