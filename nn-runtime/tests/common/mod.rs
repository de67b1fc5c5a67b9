//! Helpers shared by the kernel tests: seeded data and central finite
//! differences.
#![allow(dead_code)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Uniform values in [-1, 1).
pub fn random_vec(rng: &mut StdRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// Distinct values at least 0.01 apart, shuffled: no ties and no near-ties,
/// so max pooling's choice is stable under a finite-difference step.
pub fn distinct_vec(rng: &mut StdRng, len: usize) -> Vec<f32> {
    let mut v: Vec<f32> = (0..len).map(|i| (i as f32 - len as f32 / 2.0) * 0.01).collect();
    for i in (1..len).rev() {
        let j = rng.random_range(0..=i);
        v.swap(i, j);
    }
    v
}

/// `Σ a·b` in f64: the scalar loss whose gradient with respect to `a` is `b`.
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// Compares `analytic[i]` with the central difference of `loss` at up to
/// `max_checks` indices of `point` (all of them when it is small).
pub fn check_gradient(what: &str, point: &[f32], analytic: &[f32], mut loss: impl FnMut(&[f32]) -> f64) {
    assert_eq!(point.len(), analytic.len(), "{what}: gradient length");
    const EPS: f32 = 1e-2;
    const MAX_CHECKS: usize = 150;
    let stride = (point.len() / MAX_CHECKS).max(1);
    let mut probe = point.to_vec();
    let mut checked = 0;
    for i in (0..point.len()).step_by(stride) {
        let orig = probe[i];
        probe[i] = orig + EPS;
        let plus = loss(&probe);
        probe[i] = orig - EPS;
        let minus = loss(&probe);
        probe[i] = orig;
        let numeric = (plus - minus) / (2.0 * EPS as f64);
        let a = analytic[i] as f64;
        let tol = 2e-3 + 2e-3 * numeric.abs().max(a.abs());
        assert!(
            (numeric - a).abs() <= tol,
            "{what}: gradient at index {i}: analytic {a}, finite difference {numeric}"
        );
        checked += 1;
    }
    assert!(checked > 0, "{what}: nothing was checked");
}

/// Largest absolute difference, asserting equal lengths.
pub fn assert_close(what: &str, actual: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * (1.0 + e.abs()),
            "{what}: index {i}: got {a}, expected {e}"
        );
    }
}

/// A network with nothing in it, for driving callbacks without one.
pub const EMPTY_SPEC: nn_runtime::spec::ModelSpec = nn_runtime::spec::ModelSpec {
    name: "Empty",
    inputs: &[],
    outputs: &[],
    params: &[],
    layers: &[],
    nodes: &[],
    param_len: 0,
    state_len: 0,
};

mod temp_dir;
#[allow(unused_imports)] // each test crate uses what it needs
pub use temp_dir::{TempDir, TempPath};
