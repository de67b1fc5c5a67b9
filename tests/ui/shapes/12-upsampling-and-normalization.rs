use nn::network;

network! {
    struct UnknownInterpolation {
        input x: [4, 4, 3];
        output y = UpSampling2D(2, interpolation = "bicubic")(x);
    }

    struct UpSamplingAVector {
        input x: [12];
        output y = UpSampling2D()(x);
    }

    struct LayerNormOtherAxis {
        input x: [4, 3];
        output y = LayerNormalization(axis = 1)(x);
    }

    struct GlobalMaxOfAVector {
        input x: [12];
        output y = GlobalMaxPooling2D()(x);
    }
}

fn main() {}
