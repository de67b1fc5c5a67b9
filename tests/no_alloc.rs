//! A steady-state training step and inference step allocate nothing, and
//! neither does a step inside `fit`: a counting global allocator watches
//! them after a warm-up. (`fit` allocates a fixed amount per call and per
//! epoch — batch buffers, the sample order, logs — which does not grow with
//! the number of steps; an interactive progress bar allocates when it
//! redraws, at most every 100 ms.) One test in this binary, so no other
//! test's allocations are counted.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use nn::prelude::*;
use nn::rand::SeedableRng;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

network! {
    /// Every kind of layer: strided, 1x1 and 5x5 convolutions, both
    /// poolings, add, concat, batch norm (one folded into a convolution in
    /// inference), dropout, dense.
    struct Everything {
        input x: [16, 16, 3];
        let a = Conv2D(8, 3, padding = same, activation = relu)(x);
        let a = BatchNormalization()(a);
        let b = Conv2D(8, 3, strides = 2, padding = same)(a);
        let s = Conv2D(8, 1, strides = 2)(a);
        // Folded into the convolution before it in inference.
        let s = BatchNormalization()(s);
        let r = relu(add(b, s));
        let p = MaxPooling2D(2)(r);
        let p = Conv2D(8, 5, padding = same, activation = relu)(p);
        let q = AveragePooling2D(2)(r);
        let j = concat(p, q);
        let g = GlobalAveragePooling2D()(j);
        let d = Dropout(0.2)(flatten(j));
        let h = Dense(16, activation = tanh)(d);
        output y = Dense(4, activation = softmax)(concat(h, g));
    }
}

#[test]
fn steady_state_steps_allocate_nothing() {
    nn::runtime::threads::set(2);
    let mut rng = nn::rand::rngs::StdRng::seed_from_u64(3);
    let mut net = Everything::new(&mut rng);
    let batch = 8;
    let x: Vec<f32> = (0..batch * 16 * 16 * 3).map(|i| (i % 13) as f32 / 13.0).collect();
    let y: Vec<f32> = (0..batch * 4)
        .map(|i| if i % 4 == (i / 4) % 4 { 1.0 } else { 0.0 })
        .collect();
    let mut grads = vec![vec![0.0; batch * 4]];
    let mut trainer = Trainer::new(Adam::new(1e-3), Loss::CategoricalCrossentropy);
    let mut step = |net: &mut Everything, trainer: &mut Trainer<Adam>| {
        trainer.train_step(net, batch, &[&x], &[&y], &mut grads).unwrap();
        net.forward_slices(batch, &[&x], Mode::Infer).unwrap();
        net.forward_slices(3, &[&x[..3 * 16 * 16 * 3]], Mode::Infer)
            .unwrap();
    };
    // Warm-up: arenas, workspaces, optimizer state and worker threads.
    for _ in 0..2 {
        step(&mut net, &mut trainer);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..5 {
        step(&mut net, &mut trainer);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(
        allocations, 0,
        "allocations in 5 steady-state training and inference steps"
    );

    // fit: one epoch of 2 steps and one of 10 allocate the same.
    let dataset = |n: usize| {
        let x = nn::ndarray::Array4::from_shape_fn((n, 16, 16, 3), |(i, r, c, k)| {
            ((i + r * 3 + c * 5 + k) % 11) as f32 / 11.0
        });
        let labels: Vec<usize> = (0..n).map(|i| i % 4).collect();
        Dataset::new(x, one_hot(&labels, 4).unwrap()).unwrap()
    };
    let (short, long) = (dataset(2 * batch), dataset(10 * batch));
    let config = FitConfig {
        epochs: 1,
        batch_size: batch,
        verbosity: Verbosity::Quiet,
        ..FitConfig::default()
    };
    let mut fit_allocations = |data: &Dataset| {
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        trainer.fit(&mut net, data, None, &config, &mut []).unwrap();
        ALLOCATIONS.load(Ordering::Relaxed) - before
    };
    fit_allocations(&short);
    let two_steps = fit_allocations(&short);
    let ten_steps = fit_allocations(&long);
    assert_eq!(
        two_steps, ten_steps,
        "allocations of a fit call grow with its steps ({two_steps} for 2 steps, {ten_steps} for 10)"
    );

    // The same steady state with the stride-1 convolutions on Winograd:
    // F(4x4,3x3) and F(4x4,5x5), then F(2x2,3x3) and F(2x2,5x5)
    // (in this test, not a second one: the allocation counter is global).
    use nn::runtime::conv_algorithm::{self, Choice};
    use nn::runtime::winograd::Tile;
    for tile in [Tile::F4, Tile::F2] {
        conv_algorithm::force(Some(Choice::Winograd(tile)));
        for _ in 0..2 {
            step(&mut net, &mut trainer);
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        for _ in 0..5 {
            step(&mut net, &mut trainer);
        }
        let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
        conv_algorithm::force(None);
        assert_eq!(
            allocations, 0,
            "allocations in 5 steady-state steps on Winograd {tile:?}"
        );
    }
}
