use nn::network;

network! {
    pub struct Net {
        input x: [8];
        let h = Dense(4)(x);
    }
}

fn main() {}
