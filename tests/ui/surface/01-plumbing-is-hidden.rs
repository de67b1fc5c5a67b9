use nn::prelude::*;

network! {
    struct Net {
        input x: [4];
        output y = Dense(2)(x);
    }
}

fn main() {
    let mut rng = <nn::rand::rngs::StdRng as nn::rand::SeedableRng>::seed_from_u64(1);
    let net = Net::new(&mut rng);
    // What users call is on `Model`...
    let _ = net.params();
    // ...what generated code needs is not.
    let _ = net.core();
    let _ = Net::ARENA_PER_SAMPLE;
}
