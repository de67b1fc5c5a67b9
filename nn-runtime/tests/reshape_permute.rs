//! Reshape and Permute: forward against index formulas written out per
//! element, backward against central finite differences, and bad axes are
//! errors.

mod common;

use common::*;
use nn_runtime::{permute, reshape, Permute};

#[test]
fn reshape_copies_and_adds_the_gradient_back() {
    let x = random_vec(&mut rng(51), 24);
    let mut y = vec![0.0; 24];
    reshape::forward(&x, &mut y).unwrap();
    assert_eq!(x, y);
    let r = random_vec(&mut rng(52), 24);
    let mut dx = vec![1.0; 24];
    reshape::backward(&r, &mut dx).unwrap();
    let expected: Vec<f32> = r.iter().map(|g| g + 1.0).collect();
    assert_close("reshape dx accumulates", &dx, &expected, 0.0);
    let err = reshape::forward(&x, &mut [0.0; 23]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "reshape: buffer `y` has 23 elements, expected 24"
    );
}

#[test]
fn permute_2d_is_a_transpose() {
    let (batch, a, b) = (2, 3, 4);
    let p = Permute::new(&[a, b], &[1, 0]).unwrap();
    assert_eq!(&p.out_shape()[..2], &[b, a]);
    let x = random_vec(&mut rng(53), batch * a * b);
    let mut y = vec![0.0; x.len()];
    p.forward(batch, &x, &mut y).unwrap();
    for n in 0..batch {
        for i in 0..a {
            for j in 0..b {
                assert_eq!(y[(n * b + j) * a + i], x[(n * a + i) * b + j]);
            }
        }
    }
}

/// Every permutation of three axes: forward element by element, backward
/// against finite differences, and the inverse permutation undoes it.
#[test]
fn permute_3d_all_orders_forward_gradient_and_inverse() {
    let shape = [2, 3, 4];
    let batch = 2;
    let orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    let x = random_vec(&mut rng(54), batch * 24);
    for axes in orders {
        let p = Permute::new(&shape, &axes).unwrap();
        let out = p.out_shape();
        let mut y = vec![0.0; x.len()];
        p.forward(batch, &x, &mut y).unwrap();
        for n in 0..batch {
            for i in 0..shape[0] {
                for j in 0..shape[1] {
                    for k in 0..shape[2] {
                        let src = [i, j, k];
                        let dst = [src[axes[0]], src[axes[1]], src[axes[2]]];
                        let at_out = ((n * out[0] + dst[0]) * out[1] + dst[1]) * out[2] + dst[2];
                        let at_in = ((n * shape[0] + i) * shape[1] + j) * shape[2] + k;
                        assert_eq!(y[at_out], x[at_in], "axes {axes:?} at {src:?}");
                    }
                }
            }
        }
        let r = random_vec(&mut rng(55), y.len());
        let mut dx = vec![0.0; x.len()];
        p.backward(batch, &r, &mut dx).unwrap();
        let mut probe = vec![0.0; y.len()];
        check_gradient("permute dx", &x, &dx, |q| {
            p.forward(batch, q, &mut probe).unwrap();
            dot(&probe, &r)
        });
        let mut inverse = [0; 3];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        let back = Permute::new(&out[..3], &inverse).unwrap();
        let mut round_trip = vec![0.0; x.len()];
        back.forward(batch, &y, &mut round_trip).unwrap();
        assert_eq!(round_trip, x, "axes {axes:?} then their inverse");
    }
}

#[test]
fn permute_4d_matches_a_naive_transpose() {
    let shape = [2, 3, 1, 4];
    let axes = [3, 0, 2, 1];
    let p = Permute::new(&shape, &axes).unwrap();
    let x = random_vec(&mut rng(56), 24);
    let mut y = vec![0.0; 24];
    p.forward(1, &x, &mut y).unwrap();
    // Naive: enumerate every output index and compute its input index.
    let out: Vec<usize> = axes.iter().map(|&a| shape[a]).collect();
    let mut expected = Vec::new();
    for o0 in 0..out[0] {
        for o1 in 0..out[1] {
            for o2 in 0..out[2] {
                for o3 in 0..out[3] {
                    let mut src = [0; 4];
                    for (&a, o) in axes.iter().zip([o0, o1, o2, o3]) {
                        src[a] = o;
                    }
                    expected.push(x[((src[0] * shape[1] + src[1]) * shape[2] + src[2]) * shape[3] + src[3]]);
                }
            }
        }
    }
    assert_eq!(y, expected);
}

#[test]
fn permute_rejects_repeated_or_out_of_range_axes() {
    let err = Permute::new(&[2, 3], &[0, 0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "permute: axes [0, 0] are not a permutation of 0..2 (each axis exactly once)"
    );
    assert!(Permute::new(&[2, 3], &[0, 2]).is_err());
    assert!(Permute::new(&[2, 3], &[0]).is_err());
    let p = Permute::new(&[2, 3], &[1, 0]).unwrap();
    let err = p.forward(2, &[0.0; 12], &mut [0.0; 11]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "permute: buffer `y` has 11 elements, expected 12"
    );
    let _ = permute::MAX_RANK;
}
