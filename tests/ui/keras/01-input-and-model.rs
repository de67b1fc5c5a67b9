use nn::prelude::*;

network! {
    struct KerasHabits {
        let x = Input(shape = (28, 28, 1));
        let h = layers.Conv2D(32, 3)(x);
        let model = Model(x, h);
    }

    struct Stacked {
        input x: [28, 28, 1];
        output y = Sequential([Conv2D(8, 3), Flatten(), Dense(10)])(x);
    }
}

fn main() {}
