// Misuse of the 1-D layers on `[steps, channels]` sequences.
use nn::network;

network! {
    struct PoolLongerThanTheSequence {
        input x: [4, 3];
        output y = AveragePooling1D(8)(x);
    }

    struct GlobalPoolingOfAnImage {
        input x: [8, 8, 3];
        output y = GlobalAveragePooling1D()(x);
    }

    struct KernelLongerThanTheSequence {
        input x: [4, 3];
        output y = Conv1D(4, 9)(x);
    }

    struct GroupsThatDoNotDivideTheChannels {
        input x: [8, 3];
        output y = Conv1D(4, 3, groups = 2)(x);
    }

    struct ZeroStrides {
        input x: [8, 3];
        output y = MaxPooling1D(2, strides = 0)(x);
    }
}

fn main() {}
