use nn::network;

network! {
    struct GroupsNotDividingFilters {
        input x: [8, 8, 4];
        output y = Conv2D(6, 3, groups = 4)(x);
    }

    struct GroupsNotDividingChannels {
        input x: [8, 8, 6];
        output y = Conv2D(8, 3, groups = 4)(x);
    }

    struct StridesWithDilation {
        input x: [9, 9, 2];
        output y = Conv2D(4, 3, strides = 2, dilation_rate = 2)(x);
    }

    struct DilatedKernelTooLarge {
        input x: [6, 6, 2];
        output y = DepthwiseConv2D(3, dilation_rate = 3)(x);
    }

    struct OutputPaddingNotBelowStrides {
        input x: [4, 4, 2];
        output y = Conv2DTranspose(3, 3, strides = 2, output_padding = 2)(x);
    }

    struct Conv1DOnAnImage {
        input x: [8, 8, 3];
        output y = Conv1D(4, 3)(x);
    }

    struct CausalConv2D {
        input x: [8, 8, 3];
        output y = Conv2D(4, 3, padding = causal)(x);
    }

    struct PoolingOverAVector {
        input x: [16];
        output y = MaxPooling1D(2)(x);
    }

    struct SeparableOnASequence {
        input x: [16, 3];
        output y = SeparableConv2D(4, 3)(x);
    }
}

fn main() {}
