//! A crate that denies missing docs can hold a public network.
#![deny(missing_docs)]

nn::network! {
    /// A documented public network.
    pub struct Documented {
        input x: [4];
        output y = Dense(2)(x);
    }
}

/// Uses the network.
fn main() {
    println!("{}", Documented::TRAINABLE_PARAM_COUNT + Documented::NON_TRAINABLE_PARAM_COUNT);
}
