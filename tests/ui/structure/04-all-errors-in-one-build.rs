// Three independent mistakes, in two networks: all three are reported, and
// code that names the networks sees no further errors (the macro still
// emits both structs).
use nn::network;

network! {
    pub struct First {
        input x: [8, 8, 3];
        let a = Conv2D(8, 3, strides = 2)(x);
        output y = add(a, x);
    }

    pub struct Second {
        input x: [8];
        let h = Dense(4, activation = gelu)(x);
        output y = Dense(2)(hh);
    }
}

fn use_them(_first: &First, _second: &Second) {}

fn main() {}
