use nn::network;

network! {
    pub struct Net {
        input x: [8, 8, 3];
        let c = Conv2D(8)(x);
        output y = Dense(activation = softmax)(flatten(c));
    }
}

fn main() {}
