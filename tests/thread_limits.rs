//! Absurd thread counts: `threads::set(usize::MAX)` is capped, and kernels
//! size per-thread scratch by the work they hand out, so a prediction
//! neither aborts nor allocates per configured thread. (Its own binary: the
//! setting is global.)

mod common;

use nn::ndarray::Array4;
use nn::prelude::*;
use nn::runtime::threads;

network! {
    struct Small {
        input x: [8, 8, 3];
        let c = Conv2D(4, 3, padding = same, activation = relu)(x);
        output y = Dense(2, activation = softmax)(flatten(c));
    }
}

#[test]
fn a_huge_thread_count_is_capped_and_scratch_follows_the_work() {
    let x = Array4::from_shape_vec((1, 8, 8, 3), common::random_vec(&mut common::rng(2), 192)).unwrap();
    let mut net = Small::new(&mut common::rng(1));
    threads::set(1);
    let one = net.predict(x.view()).unwrap();
    let mut net = Small::new(&mut common::rng(1));
    threads::set(usize::MAX);
    assert_eq!(threads::current(), threads::MAX_THREADS);
    let many = net.predict(x.view()).unwrap();
    assert_eq!(one, many, "the thread count does not change results");
    // One 8x8 image has 64 output pixels: at most 8 tasks of 8 rows, so at
    // most 8 per-thread scratch planes of 10 * 10 * 3 floats.
    let held = net.memory_bytes();
    assert!(held < 64 * 1024, "{held} bytes held for one image");
    // Training backward: one group of images, one scratch.
    let mut trainer = Trainer::new(Sgd::new(0.01), Loss::CategoricalCrossentropy);
    let data = Dataset::new(x.clone(), nn::ndarray::Array2::from_elem((1, 2), 0.5)).unwrap();
    let config = FitConfig {
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    trainer.fit(&mut net, &data, None, &config, &mut []).unwrap();
    assert!(net.memory_bytes() < 64 * 1024, "{} bytes", net.memory_bytes());
    threads::set(0);
    assert_eq!(threads::current(), 1, "0 means 1");
}
