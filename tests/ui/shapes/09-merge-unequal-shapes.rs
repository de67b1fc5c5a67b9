use nn::network;

network! {
    struct MultiplyUnequal {
        input a: [8, 8, 3];
        input b: [8, 8, 4];
        output y = multiply(a, b);
    }

    struct AverageUnequal {
        input a: [6];
        input b: [6];
        input c: [2, 3];
        output y = Average()([a, b, c]);
    }

    struct SubtractUnequal {
        input a: [6];
        input b: [5];
        output y = abs(subtract(a, b));
    }
}

fn main() {}
