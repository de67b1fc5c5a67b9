//! `..=i64::MAX` is one iteration, not an overflow.
nn::network! {
    struct Once {
        input x: [4];
        let h = x;
        for i in 9223372036854775807..=9223372036854775807 {
            h = Dense(i - i + 4)(h);
        }
        output y = h;
    }
}

fn main() {
    assert_eq!(Once::PARAM_COUNT, 4 * 4 + 4);
}
