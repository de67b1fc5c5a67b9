use nn::network;

network! {
    pub struct Net {
        input x: [4, 4, 3];
        let a = Conv2D(8, 5)(x);
        let p = MaxPooling2D(3)(MaxPooling2D(2)(x));
        output y = add(a, p);
    }
}

fn main() {}
