use nn::network;

network! {
    struct HeightOfAVector {
        input x: [12];
        output y = Dense(height(x))(x);
    }

    struct ChannelsOfAnExpression {
        input x: [4, 4, 3];
        output y = Conv2D(channels(relu(x)), 1)(x);
    }

    struct ChannelsOfAnInteger {
        input x: [4, 4, 3];
        let n = 4;
        output y = Conv2D(channels(n), 1)(x);
    }

    struct ChannelsOfNothing {
        input x: [4, 4, 3];
        output y = Conv2D(channels(z), 1)(x);
    }
}

fn main() {}
