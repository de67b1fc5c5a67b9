use nn::network;

network! {
    pub struct Net {
        input a: [64];
        input b: [32];
        let encoder = Dense(16, activation = relu);
        let ea = encoder(a);
        let eb = encoder(b);
        output y = concat(ea, eb);
    }
}

fn main() {}
