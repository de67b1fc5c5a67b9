use nn::network;

network! {
    fn residual(x, n) {
        let a = Conv2D(n, 3, padding = same, activation = relu)(x);
        relu(add(Conv2D(n, 3, padding = same)(a), x))
    }

    pub struct Net {
        input x: [8, 8, 16];
        output y = residual(x);
    }
}

fn main() {}
