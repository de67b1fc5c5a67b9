use nn::prelude::*;

network! {
    fn stage(x, n) {
        Conv2D(n, 3, padding = same)(x)
    }

    struct Twice {
        input x: [8];
        output y = Dense(2)(x);
    }

    struct Twice {
        input x: [8];
        output y = Dense(3)(x);
    }

    struct SameInput {
        input x: [8];
        input x: [4];
        output y = Dense(2)(x);
    }

    struct Swapped {
        input x: [8, 8, 3];
        output y = stage(16, x);
    }
}

fn main() {}
