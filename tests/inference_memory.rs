//! Inference-mode forward passes run over their own layout, planned by
//! liveness: outputs equal a forward over the training layout bit for bit
//! (within rounding where a batch normalization is folded into the
//! convolution before it), the planned arena is smaller, a later training call still works, and
//! predicting in chunks equals predicting at once.

mod common;

#[path = "../examples/networks/lecture.rs"]
mod lecture;

use lecture::{InceptionNet, ResidualNet};
// The arena sizes and the reference-layout switch are plumbing, read here on purpose.
use nn::__private::Generated;
use nn::ndarray::{Array2, Array4, ArrayViewD, Axis};
use nn::prelude::*;

network! {
    fn tower(x, n) {
        let a = Conv2D(n, 1)(x);
        let b = Conv2D(n, 1, activation = relu)(x);
        let b = Conv2D(n, 3, padding = same)(b);
        let d = MaxPooling2D(3, strides = 1, padding = same)(x);
        let d = Conv2D(n, 1, activation = relu)(d);
        relu(concat([a, b, d]))
    }

    /// Every way tensors share storage or stay alive: a concatenation
    /// written in place by convolutions, fused residual adds (one over a
    /// network input), in-place activations, batch norm, dropout, a gelu
    /// dense (pre-activation scratch), element-wise merges, a flatten alias,
    /// an output another layer also reads, and two inputs and three outputs.
    struct Branching {
        input image: [8, 8, 3];
        input meta: [5];
        let s = Conv2D(3, 3, padding = same)(image);
        let r = relu(add(s, image));
        let t = tower(r, 4);
        let t = BatchNormalization()(t);
        let u = Conv2D(12, 3, padding = same)(t);
        let u = relu(add(u, t));
        let p = MaxPooling2D(2)(u);
        let g = GlobalAveragePooling2D()(p);
        let f = Dropout(0.3)(flatten(p));
        let h = Dense(16, activation = gelu)(f);
        let m = Dense(16, activation = tanh)(meta);
        let j = concat(h, m, g);
        output score = Dense(3, activation = softmax)(j);
        let w = Dense(16)(meta);
        let q = subtract(multiply(h, w), m);
        output value = Dense(1)(q);
        output features = Dense(4, activation = relu)(j);
        output mixed = Dense(2)(concat(h, w));
    }

    /// Convolutions followed by the pooling that alone reads them, which
    /// inference runs together a few images at a time: max pooling with
    /// same padding over odd sizes, a valid 3x3 convolution (Winograd when
    /// forced) before an average pooling, a frozen 1x1 without bias.
    struct Pooled {
        input x: [11, 9, 3];
        let a = Conv2D(4, 3, padding = same, activation = relu)(x);
        let a = MaxPooling2D(3, strides = 2, padding = same)(a);
        let b = Conv2D(5, 3, activation = tanh)(a);
        let b = AveragePooling2D(2)(b);
        let c = Conv2D(3, 1, use_bias = false, trainable = false)(b);
        let c = MaxPooling2D(2, padding = same)(c);
        output y = Dense(2)(flatten(c));
    }

    /// Convolutions followed by batch normalizations, folded in inference
    /// (with and without the convolution's bias, gamma or beta; a 40-filter
    /// convolution on the packed-kernel path; strided) and not folded (the
    /// convolution also read elsewhere, or with its own activation).
    struct Normalized {
        input image: [9, 9, 3];
        let h = Conv2D(40, 3, padding = same)(image);
        let h = BatchNormalization()(h);
        let h = relu(h);
        let s = Conv2D(8, 1, strides = 2, use_bias = false)(h);
        let s = BatchNormalization(center = false)(s);
        let t = Conv2D(8, 3, strides = 2, padding = same)(h);
        let t = BatchNormalization(scale = false, epsilon = 1.001e-5)(t);
        let u = relu(add(s, t));
        let v = Conv2D(8, 3, padding = same)(u);
        let w = BatchNormalization()(v);
        let z = add(w, v);
        let q = Conv2D(6, 1, activation = relu)(z);
        let q = BatchNormalization()(q);
        let g = GlobalAveragePooling2D()(q);
        output y = Dense(3)(g);
    }

    /// A chain of equal widths: inference needs two activations at a
    /// time, whatever the depth.
    struct Chain {
        input x: [64];
        let h = Dense(64, activation = relu)(x);
        for _ in 0..9 {
            h = Dense(64, activation = relu)(h);
        }
        output y = Dense(64)(h);
    }
}

/// Outputs of an inference forward over the inference layout and over the
/// training layout, from the same parameters and inputs.
fn both_layouts<M: Model>(net: &mut M, batch: usize, inputs: &[&[f32]]) -> (Vec<Vec<f32>>, Vec<Vec<f32>>) {
    let outputs = |net: &mut M| -> Vec<Vec<f32>> {
        net.forward_slices(batch, inputs, Mode::Infer).unwrap();
        (0..M::SPEC.outputs.len())
            .map(|i| net.output(i).unwrap().to_vec())
            .collect()
    };
    net.core_mut().inference_over_training_layout = true;
    let reference = outputs(net);
    net.core_mut().inference_over_training_layout = false;
    (outputs(net), reference)
}

fn random_inputs<M: Model>(batch: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = common::rng(seed);
    M::SPEC
        .inputs
        .iter()
        .map(|t| common::random_vec(&mut rng, batch * t.len()))
        .collect()
}

fn assert_same_bits(what: &str, actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(a.to_bits(), e.to_bits(), "{what}[{i}]: {a} vs {e}");
    }
}

/// Trains one step first so batch-norm statistics and weights are not
/// their initial values, then compares the two layouts.
fn check_layouts_agree<M: Model>(name: &str, batch: usize) {
    let mut net = M::init(&mut common::rng(3));
    let inputs = random_inputs::<M>(batch, 4);
    let slices: Vec<&[f32]> = inputs.iter().map(|v| &v[..]).collect();
    net.forward_slices(batch, &slices, Mode::Train).unwrap();
    let grads: Vec<Vec<f32>> = M::SPEC
        .outputs
        .iter()
        .map(|o| vec![0.1; batch * o.len()])
        .collect();
    let grads: Vec<&[f32]> = grads.iter().map(|v| &v[..]).collect();
    net.backward_slices(&grads).unwrap();
    let (params, step) = net.params_and_grads();
    params.iter_mut().zip(step).for_each(|(p, g)| *p -= 0.01 * g);
    let (planned, reference) = both_layouts(&mut net, batch, &slices);
    for (i, (a, e)) in planned.iter().zip(&reference).enumerate() {
        assert!(a.iter().all(|v| v.is_finite()), "{name} output {i} not finite");
        assert_same_bits(&format!("{name} output {i}"), a, e);
    }
}

#[test]
fn inference_layout_gives_the_training_layouts_outputs_bit_for_bit() {
    check_layouts_agree::<ResidualNet>("ResidualNet", 3);
    check_layouts_agree::<InceptionNet>("InceptionNet", 2);
    check_layouts_agree::<Branching>("Branching", 5);
    check_layouts_agree::<Chain>("Chain", 7);
}

/// A convolution run with its pooling a group of images at a time gives
/// the training layout's outputs bit for bit: batches below, at and past
/// a group (with a remainder), 1 and 2 threads, direct and Winograd.
#[test]
fn convolutions_pooled_in_groups_give_the_same_bits() {
    use nn::runtime::conv_algorithm::{self, Choice};
    use nn::runtime::threads;
    use nn::runtime::winograd::Tile;
    for choice in [
        Choice::Direct,
        Choice::Winograd(Tile::F2),
        Choice::Winograd(Tile::F4),
    ] {
        conv_algorithm::force(Some(choice));
        for count in [1, 2] {
            threads::set(count);
            for batch in [1, 3, 4, 11] {
                check_layouts_agree::<Pooled>("Pooled", batch);
            }
            check_layouts_agree::<ResidualNet>("ResidualNet", 9);
        }
    }
    threads::set(1);
    conv_algorithm::force(None);
    // No convolution output of these pairs is in the arena: the peak is
    // the input beside the first pooling's output (a 11x9x4 convolution
    // output in between is staged a group at a time).
    assert_eq!(Pooled::INFERENCE_ARENA_PER_SAMPLE, 11 * 9 * 3 + 6 * 5 * 4);
}

/// With batch normalizations folded into convolutions, the inference
/// layout's outputs differ from the unfolded training-layout forward by
/// rounding only. Moving statistics, gamma and beta are set to spread-out
/// values first so the folded scale and shift are far from 1 and 0.
#[test]
fn folded_batch_norms_change_inference_outputs_by_rounding_only() {
    for threads in [1, 2] {
        nn::runtime::threads::set(threads);
        let batch = 5;
        let mut net = Normalized::init(&mut common::rng(13));
        let mut rng = common::rng(14);
        for v in net.core_mut().state.iter_mut() {
            // Moving means start at 0, moving variances at 1: means become
            // spread around 0, variances spread in [0.25, 1.25].
            let r = common::random_vec(&mut rng, 1)[0];
            *v = if *v == 1.0 { 0.25 + r.abs().min(1.0) } else { r };
        }
        let perturbation = common::random_vec(&mut rng, net.core().params.len());
        for (p, d) in net.core_mut().params.iter_mut().zip(perturbation) {
            *p += 0.5 * d;
        }
        let inputs = random_inputs::<Normalized>(batch, 15);
        let slices: Vec<&[f32]> = inputs.iter().map(|v| &v[..]).collect();
        let (planned, reference) = both_layouts(&mut net, batch, &slices);
        let (a, e) = (&planned[0], &reference[0]);
        let scale = e.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let gap = a.iter().zip(e).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(a.iter().all(|v| v.is_finite()), "{a:?} vs {e:?}");
        assert!(gap <= 1e-5 * scale, "{threads} threads: {gap:e} of {scale}");
        eprintln!(
            "folded batch norms, {threads} threads: outputs {gap:.2e} apart (largest output {scale:.2})"
        );
    }
    nn::runtime::threads::set(1);
}

#[test]
fn inference_plans_fewer_bytes_than_training() {
    fn sizes<M: Model>() -> (usize, usize) {
        (
            M::INFERENCE_ARENA_PER_SAMPLE,
            M::ARENA_PER_SAMPLE + M::GRAD_PER_SAMPLE,
        )
    }
    for (name, (inference, training)) in [
        ("ResidualNet", sizes::<ResidualNet>()),
        ("InceptionNet", sizes::<InceptionNet>()),
        ("Branching", sizes::<Branching>()),
    ] {
        assert!(
            inference < training,
            "{name}: {inference} vs {training} floats per sample"
        );
    }
    // The residual net's activations: 64x64x16 tensors, of which a training
    // pass keeps every one and inference at most three at once (a block's
    // input, its first convolution and the fused add it writes), above the
    // image's region (placed first, free after the first convolution).
    fn activations<M: Model>() -> (usize, usize) {
        (M::INFERENCE_ARENA_PER_SAMPLE, M::ARENA_PER_SAMPLE)
    }
    let (inference, training) = activations::<ResidualNet>();
    assert!(inference <= 64 * 64 * 3 + 3 * 64 * 64 * 16, "{inference}");
    assert!(training > 5 * 64 * 64 * 16, "{training}");
    // A chain holds its input and one activation, or two activations.
    assert_eq!(activations::<Chain>(), (2 * 64, 12 * 64));

    // The arena a call allocates follows the plan: inference allocates no
    // gradients and only its own layout.
    let batch = 16;
    let inputs = random_inputs::<Branching>(batch, 6);
    let slices: Vec<&[f32]> = inputs.iter().map(|v| &v[..]).collect();
    let mut net = Branching::new(&mut common::rng(5));
    net.forward_slices(batch, &slices, Mode::Infer).unwrap();
    let arena = &net.core().arena;
    assert_eq!(arena.acts.len(), batch * Branching::INFERENCE_ARENA_PER_SAMPLE);
    assert!(arena.grads.is_empty());
    let inference_bytes = net.memory_bytes();
    net.release_memory();
    net.forward_slices(batch, &slices, Mode::Train).unwrap();
    assert!(net.memory_bytes() > inference_bytes);
}

#[test]
fn training_after_inference_is_unchanged() {
    let batch = 4;
    let inputs = random_inputs::<Branching>(batch, 7);
    let slices: Vec<&[f32]> = inputs.iter().map(|v| &v[..]).collect();
    let targets: Vec<Vec<f32>> = Branching::SPEC
        .outputs
        .iter()
        .map(|o| vec![0.25; batch * o.len()])
        .collect();
    let targets: Vec<&[f32]> = targets.iter().map(|v| &v[..]).collect();
    let train = |predict_first: bool| {
        let mut net = Branching::new(&mut common::rng(8));
        if predict_first {
            // A larger inference batch first: the arena then holds the
            // inference layout and has to grow for training.
            let big = random_inputs::<Branching>(64, 9);
            let big: Vec<&[f32]> = big.iter().map(|v| &v[..]).collect();
            net.forward_slices(64, &big, Mode::Infer).unwrap();
        }
        let mut trainer = Trainer::new(Sgd::new(0.05), Loss::MeanSquaredError);
        let mut grads: Vec<Vec<f32>> = targets.iter().map(|t| vec![0.0; t.len()]).collect();
        for _ in 0..2 {
            trainer
                .train_step(&mut net, batch, &slices, &targets, &mut grads)
                .unwrap();
        }
        net.params().to_vec()
    };
    assert_same_bits("parameters after two steps", &train(true), &train(false));
}

#[test]
fn predicting_in_chunks_equals_predicting_at_once() {
    let n = 37;
    let mut rng = common::rng(10);
    let image = Array4::from_shape_vec((n, 8, 8, 3), common::random_vec(&mut rng, n * 192)).unwrap();
    let meta = Array2::from_shape_vec((n, 5), common::random_vec(&mut rng, n * 5)).unwrap();
    let mut net = Branching::new(&mut common::rng(11));
    let at_once = {
        net.forward_slices(
            n,
            &[image.as_slice().unwrap(), meta.as_slice().unwrap()],
            Mode::Infer,
        )
        .unwrap();
        (0..4)
            .map(|i| net.output(i).unwrap().to_vec())
            .collect::<Vec<_>>()
    };
    let inputs: [ArrayViewD<f32>; 2] = [image.view().into_dyn(), meta.view().into_dyn()];
    for batch_size in [1, 8, 32, n] {
        let chunked = nn::runtime::train::predict(&mut net, &inputs, batch_size).unwrap();
        for (i, (a, e)) in chunked.iter().zip(&at_once).enumerate() {
            assert_eq!(a.len_of(Axis(0)), n);
            assert_same_bits(
                &format!("output {i} in batches of {batch_size}"),
                a.as_slice().unwrap(),
                e,
            );
        }
    }
    // The typed predict chunks by itself and agrees too.
    let (score, ..) = net.predict(image.view(), meta.view()).unwrap();
    assert_same_bits("typed predict", score.as_slice().unwrap(), &at_once[0]);
    // Afterwards the network holds one chunk of the inference layout, and
    // releases it on request.
    assert!(net.memory_bytes() > 0);
    net.release_memory();
    assert_eq!(net.memory_bytes(), 0);
}

network! {
    /// Where folding must not happen or must still be right: a convolution
    /// and a batch normalization shared by two branches, a convolution that
    /// is also a network output, frozen convolution and frozen batch
    /// normalization, a batch normalization over a Dense, one after a
    /// convolution with its own activation, one that is itself an output,
    /// a large epsilon, a convolution also written into a concatenation, and
    /// a 33 -> 32 convolution that the cost rule computes with Winograd.
    struct FoldEdges {
        input left: [7, 7, 2];
        input right: [7, 7, 2];
        let shared_conv = Conv2D(33, 3, padding = same, use_bias = false);
        let shared_norm = BatchNormalization(epsilon = 0.5);
        let l = shared_norm(shared_conv(left));
        let r = shared_norm(shared_conv(right));
        let raw = Conv2D(4, 1)(left);
        output conv_out = raw;
        let n = BatchNormalization()(raw);
        let f = Conv2D(5, 3, strides = 2, trainable = false)(l);
        let f = BatchNormalization()(f);
        let g = Conv2D(5, 3, strides = 2)(r);
        let g = BatchNormalization(trainable = false, center = false, scale = false)(g);
        let a = Conv2D(5, 3, strides = 2, activation = tanh)(l);
        let a = BatchNormalization()(a);
        let c = Conv2D(3, 1)(r);
        let k = concat(c, r);
        let c = BatchNormalization()(c);
        let p = GlobalAveragePooling2D()(concat(f, g, a));
        let q = GlobalAveragePooling2D()(concat(n, c, k));
        let d = BatchNormalization()(Dense(6)(concat(p, q)));
        output y = Dense(3)(d);
        output z = BatchNormalization(scale = false)(Conv2D(2, 3)(l));
        let w = BatchNormalization()(Conv2D(32, 3, padding = same)(l));
        output wide = GlobalAveragePooling2D()(w);
    }
}

/// Every edge of `FoldEdges`: the inference layout (with folds where they
/// are allowed) agrees with the unfolded training-layout forward within
/// rounding, on 1 and 2 threads, after moving statistics are spread out.
#[test]
fn folding_edge_cases_agree_with_the_unfolded_forward() {
    for threads in [1, 2] {
        nn::runtime::threads::set(threads);
        let batch = 3;
        let mut net = FoldEdges::init(&mut common::rng(21));
        let mut rng = common::rng(22);
        for v in net.core_mut().state.iter_mut() {
            let r = common::random_vec(&mut rng, 1)[0];
            *v = if *v == 1.0 {
                0.25 + r.abs().min(1.0)
            } else {
                *v + 0.5 * r
            };
        }
        let perturbation = common::random_vec(&mut rng, net.core().params.len());
        for (p, d) in net.core_mut().params.iter_mut().zip(perturbation) {
            *p += 0.5 * d;
        }
        let inputs = random_inputs::<FoldEdges>(batch, 23);
        let slices: Vec<&[f32]> = inputs.iter().map(|v| &v[..]).collect();
        let (planned, reference) = both_layouts(&mut net, batch, &slices);
        for (i, (a, e)) in planned.iter().zip(&reference).enumerate() {
            let scale = e.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let gap = a.iter().zip(e).fold(0.0f32, |m, (x, y)| m.max((x - y).abs()));
            assert!(a.iter().all(|v| v.is_finite()), "output {i}: {a:?} vs {e:?}");
            assert!(
                gap <= 1e-5 * scale.max(1.0),
                "{threads} threads, output {i}: {gap:e} of {scale}"
            );
        }
    }
    nn::runtime::threads::set(1);
}

/// A NaN in one input pixel and a NaN moving variance in one channel: the
/// folded forward puts NaN exactly where the unfolded one does.
#[test]
fn folding_keeps_nans_where_the_unfolded_forward_has_them() {
    nn::runtime::threads::set(1);
    let batch = 2;
    let mut net = Normalized::init(&mut common::rng(31));
    let mut inputs = random_inputs::<Normalized>(batch, 32);
    inputs[0][40] = f32::NAN;
    let slices: Vec<&[f32]> = inputs.iter().map(|v| &v[..]).collect();
    let (planned, reference) = both_layouts(&mut net, batch, &slices);
    for (a, e) in planned[0].iter().zip(&reference[0]) {
        assert_eq!(a.is_nan(), e.is_nan(), "{:?} vs {:?}", planned[0], reference[0]);
    }
    assert!(planned[0].iter().any(|v| v.is_nan()) && planned[0].iter().any(|v| v.is_finite()));
}

/// Two threads predicting at once on two networks with folded batch
/// normalizations (the runtime set to 2 threads, so both share its pool)
/// get the outputs each gets alone, bit for bit.
#[test]
fn two_threads_predicting_at_once_get_their_outputs_alone() {
    nn::runtime::threads::set(2);
    let predict = |seed: u64| {
        let mut net = Normalized::init(&mut common::rng(seed));
        let inputs = random_inputs::<Normalized>(6, seed + 1);
        let image = ArrayViewD::from_shape(vec![6, 9, 9, 3], &inputs[0][..]).unwrap();
        let out = nn::runtime::train::predict(&mut net, &[image], 4).unwrap();
        out[0].as_slice().unwrap().to_vec()
    };
    let alone = (predict(41), predict(51));
    for _ in 0..3 {
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| predict(41));
            let b = s.spawn(|| predict(51));
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_same_bits("first network", &a, &alone.0);
        assert_same_bits("second network", &b, &alone.1);
    }
    nn::runtime::threads::set(1);
}
