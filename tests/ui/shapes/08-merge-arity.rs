use nn::network;

network! {
    struct SubtractOfThree {
        input a: [4];
        input b: [4];
        input c: [4];
        output y = subtract(a, b, c);
    }

    struct MultiplyOfOne {
        input a: [4];
        output y = multiply(a);
    }

    struct MaximumLayerOfOne {
        input a: [4];
        output y = Maximum()([a]);
    }

    struct AbsOfTwo {
        input a: [4];
        input b: [4];
        output y = abs(a, b);
    }

    struct KerasAbsLayer {
        input a: [4];
        output y = Abs()(a);
    }
}

fn main() {}
