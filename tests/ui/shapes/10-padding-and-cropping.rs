use nn::network;

network! {
    struct CropAll {
        input x: [6, 6, 3];
        output y = Cropping2D(((2, 1), (3, 3)))(x);
    }

    struct NegativePadding {
        input x: [6, 6, 3];
        output y = ZeroPadding2D((1, -1))(x);
    }

    struct ThreeAmounts {
        input x: [6, 6, 3];
        output y = ZeroPadding2D(padding = (1, 2, 3))(x);
    }

    struct NotAnImage {
        input x: [36];
        output y = Cropping2D(1)(x);
    }
}

fn main() {}
