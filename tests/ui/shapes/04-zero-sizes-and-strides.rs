use nn::network;

network! {
    pub struct Net {
        input x: [8, 0, 3];
        input x2: [8, 8, 3];
        let a = Conv2D(0, 3)(x2);
        let b = Conv2D(4, 3, strides = 0)(x2);
        let c = MaxPooling2D((2, 0))(x2);
        output y = add(a, b, c);
    }
}

fn main() {}
