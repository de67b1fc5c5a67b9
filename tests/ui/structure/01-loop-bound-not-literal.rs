use nn::network;

network! {
    fn block(x, n) {
        relu(add(Conv2D(n, 3, padding = same)(x), x))
    }

    pub struct Net {
        input x: [8, 8, 4];
        let depth = 3;
        let h = x;
        for _ in 0..depth {
            h = block(h, 4);
        }
        output y = h;
    }
}

fn main() {}
