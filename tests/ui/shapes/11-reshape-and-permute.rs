use nn::network;

network! {
    struct ReshapeChangesCount {
        input x: [4, 4, 3];
        output y = Reshape((5, 10))(x);
    }

    struct ReshapeInferredDoesNotDivide {
        input x: [4, 4, 3];
        output y = Reshape((-1, 5))(x);
    }

    struct ReshapeTwoInferred {
        input x: [4, 4, 3];
        output y = Reshape((-1, -1))(x);
    }

    struct PermuteRepeatsAnAxis {
        input x: [4, 4, 3];
        output y = Permute((2, 2, 1))(x);
    }

    struct PermuteMovesTheBatchAxis {
        input x: [4, 3];
        output y = Permute((0, 1))(x);
    }

    struct PermuteWrongRank {
        input x: [4, 4, 3];
        output y = Permute((2, 1))(x);
    }
}

fn main() {}
