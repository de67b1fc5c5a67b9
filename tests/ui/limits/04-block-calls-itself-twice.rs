use nn::prelude::*;

network! {
    fn twice(x) {
        let a = twice(x);
        let b = twice(x);
        add(a, b)
    }

    struct Recursive {
        input x: [4];
        output y = twice(x);
    }
}

fn main() {}
