use nn::prelude::*;

network! {
    struct PythonShapes {
        input x: [None, 28, 28, 1];
        input z: [28, 28, 3];
        let h = Conv2D(z.shape[-1], 3)(z);
        output both = [h, z];
    }
}

fn main() {}
