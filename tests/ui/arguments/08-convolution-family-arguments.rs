use nn::network;

network! {
    struct DepthMultiplierZero {
        input x: [8, 8, 4];
        output y = DepthwiseConv2D(3, depth_multiplier = 0)(x);
    }

    struct SeparableWithoutFilters {
        input x: [8, 8, 4];
        output y = SeparableConv2D(kernel_size = 3)(x);
    }

    struct NegativeOutputPadding {
        input x: [4, 4, 2];
        output y = Conv2DTranspose(3, 3, strides = 2, output_padding = (1, -1))(x);
    }

    struct TransposeStridesWithDilation {
        input x: [4, 4, 2];
        output y = Conv2DTranspose(3, 3, strides = 2, dilation_rate = 2)(x);
    }

    struct Conv1DStridesWithDilation {
        input x: [16, 2];
        output y = Conv1D(3, 3, strides = 2, dilation_rate = 2)(x);
    }

    struct CausalPooling {
        input x: [16, 2];
        output y = MaxPooling1D(2, padding = causal)(x);
    }

    struct ZeroGroups {
        input x: [8, 8, 4];
        output y = Conv2D(4, 3, groups = 0)(x);
    }
}

fn main() {}
