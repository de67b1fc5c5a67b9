use nn::network;

network! {
    pub struct Net {
        input x: [8];
        let h = Dense(4, trainable = 3)(x);
        output y = Dense(2, trainable = "no")(h);
    }
}

fn main() {}
