//! Add and concatenate: forward by construction, backward against finite
//! differences.

mod common;

use common::*;
use nn_runtime::merge::{add_backward, add_forward, concat_backward, concat_forward};

#[test]
fn add_of_three_tensors() {
    let mut rng = rng(1);
    let xs: Vec<Vec<f32>> = (0..3).map(|_| random_vec(&mut rng, 12)).collect();
    let refs: Vec<&[f32]> = xs.iter().map(|v| &v[..]).collect();
    let mut y = vec![0.0; 12];
    add_forward(&refs, &mut y).unwrap();
    let expected: Vec<f32> = (0..12).map(|i| xs[0][i] + xs[1][i] + xs[2][i]).collect();
    assert_close("add forward", &y, &expected, 1e-6);

    let r = random_vec(&mut rng, 12);
    let mut grads = vec![vec![0.0; 12]; 3];
    let mut grad_refs: Vec<&mut [f32]> = grads.iter_mut().map(|v| &mut v[..]).collect();
    add_backward(&r, &mut grad_refs).unwrap();
    for (i, g) in grads.iter().enumerate() {
        let mut out = vec![0.0; 12];
        check_gradient("add dx", &xs[i], g, |p| {
            let mut inputs: Vec<&[f32]> = refs.clone();
            inputs[i] = p;
            add_forward(&inputs, &mut out).unwrap();
            dot(&out, &r)
        });
    }
}

#[test]
fn add_rejects_unequal_lengths() {
    let err = add_forward(&[&[0.0; 4], &[0.0; 3]], &mut [0.0; 4]).unwrap_err();
    assert_eq!(err.to_string(), "add: buffer `input` has 3 elements, expected 4");
}

#[test]
fn concat_along_channels_of_four_branches() {
    let rows = 6;
    let channels = [2, 3, 1, 4];
    let mut rng = rng(4);
    let xs: Vec<Vec<f32>> = channels.iter().map(|&c| random_vec(&mut rng, rows * c)).collect();
    let refs: Vec<&[f32]> = xs.iter().map(|v| &v[..]).collect();
    let mut y = vec![0.0; rows * 10];
    concat_forward(rows, &channels, &refs, &mut y).unwrap();
    let mut expected = Vec::new();
    for r in 0..rows {
        for (x, &c) in xs.iter().zip(&channels) {
            expected.extend_from_slice(&x[r * c..(r + 1) * c]);
        }
    }
    assert_close("concat forward", &y, &expected, 0.0);

    let g = random_vec(&mut rng, y.len());
    let mut grads: Vec<Vec<f32>> = channels.iter().map(|&c| vec![0.0; rows * c]).collect();
    let mut grad_refs: Vec<&mut [f32]> = grads.iter_mut().map(|v| &mut v[..]).collect();
    concat_backward(rows, &channels, &g, &mut grad_refs).unwrap();
    for (i, grad) in grads.iter().enumerate() {
        let mut out = vec![0.0; y.len()];
        check_gradient("concat dx", &xs[i], grad, |p| {
            let mut inputs = refs.clone();
            inputs[i] = p;
            concat_forward(rows, &channels, &inputs, &mut out).unwrap();
            dot(&out, &g)
        });
    }
}

#[test]
fn concat_rejects_mismatched_inputs() {
    let err = concat_forward(2, &[2, 3], &[&[0.0; 4]], &mut [0.0; 10]).unwrap_err();
    assert!(
        err.to_string().contains("2 channel counts given for 1 tensors"),
        "{err}"
    );
    let err = concat_forward(2, &[2, 3], &[&[0.0; 4], &[0.0; 5]], &mut [0.0; 10]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "concat: buffer `input` has 5 elements, expected 6"
    );
}

#[test]
fn concat_large_enough_to_split_over_threads() {
    // 5,000 rows of 4 x 16 channels: above the size split over threads.
    let rows = 5000;
    let channels = [16, 16, 8, 24];
    let mut rng = rng(6);
    let xs: Vec<Vec<f32>> = channels.iter().map(|&c| random_vec(&mut rng, rows * c)).collect();
    let refs: Vec<&[f32]> = xs.iter().map(|v| &v[..]).collect();
    let total: usize = channels.iter().sum();
    let mut y = vec![0.0; rows * total];
    concat_forward(rows, &channels, &refs, &mut y).unwrap();
    let mut expected = Vec::with_capacity(rows * total);
    for r in 0..rows {
        for (x, &c) in xs.iter().zip(&channels) {
            expected.extend_from_slice(&x[r * c..(r + 1) * c]);
        }
    }
    assert_eq!(y, expected);
    let mut offset = 0;
    for (x, &c) in xs.iter().zip(&channels) {
        let mut dx = vec![1.0; rows * c];
        nn_runtime::merge::concat_backward_part(rows, total, offset, c, &y, &mut dx).unwrap();
        let back: Vec<f32> = x.iter().map(|v| v + 1.0).collect();
        assert_eq!(dx, back, "input at channel offset {offset}");
        offset += c;
    }
}

/// `overwrite` is `dx = dy` whatever `dx` held, across thread splits.
#[test]
fn overwrite_replaces_the_gradient() {
    use nn_runtime::merge::overwrite;
    use nn_runtime::threads;
    let dy = random_vec(&mut rng(3), 100_003);
    for count in [1, 2] {
        threads::set(count);
        let mut dx = vec![f32::NAN; dy.len()];
        overwrite(&dy, &mut dx).unwrap();
        assert_eq!(dx, dy);
        assert!(overwrite(&dy, &mut dx[1..]).is_err(), "unequal lengths rejected");
    }
    threads::set(1);
}
