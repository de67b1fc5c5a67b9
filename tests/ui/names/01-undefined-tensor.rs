use nn::network;

network! {
    pub struct Net {
        input x: [8, 8, 3];
        let features = Conv2D(8, 3)(x);
        output y = Dense(2)(flatten(feature));
    }
}

fn main() {}
