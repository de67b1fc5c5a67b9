use nn::network;

network! {
    pub struct Net {
        input x: [8];
        let a = Dense(4, name = "encoder")(x);
        output y = Dense(4, name = "encoder")(a);
    }
}

fn main() {}
