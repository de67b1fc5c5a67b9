use nn::network;

// `dense_1` is the name the second, unnamed Dense layer gets automatically.
network! {
    pub struct Net {
        input x: [8];
        let a = Dense(4, name = "dense_1")(x);
        output y = Dense(4)(a);
    }
}

fn main() {}
