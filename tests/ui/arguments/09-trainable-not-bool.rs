use nn::network;

network! {
    pub struct Net {
        input x: [8, 8, 3];
        let h = Dense(4, trainable = 3)(x);
        let h = Dense(2, trainable = "no")(h);
        output y = DepthwiseConv2D(3, trainable = false)(h);
    }
}

fn main() {}
