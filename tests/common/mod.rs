//! Helpers for whole-network tests: seeded data and a finite-difference
//! check of every gradient a generated network computes.
#![allow(dead_code)]

use nn::rand::rngs::StdRng;
use nn::rand::{Rng, SeedableRng};
use nn::runtime::{Mode, Model};

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub fn random_vec(rng: &mut StdRng, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(&x, &y)| x as f64 * y as f64).sum()
}

/// `Σ outputᵢ · rᵢ` after a training-mode forward pass with a fixed dropout seed.
fn loss<M: Model>(net: &mut M, batch: usize, inputs: &[Vec<f32>], r: &[Vec<f32>]) -> f64 {
    let slices: Vec<&[f32]> = inputs.iter().map(|v| &v[..]).collect();
    net.seed_dropout(99);
    net.forward_slices(batch, &slices, Mode::Train).unwrap();
    (0..r.len()).map(|i| dot(net.output(i).unwrap(), &r[i])).sum()
}

fn within(a: f64, b: f64) -> bool {
    (a - b).abs() <= 3e-3 + 3e-3 * a.abs().max(b.abs())
}

/// Tallies a gradient check. Max pooling makes the loss piecewise smooth:
/// where a step of `EPS` crosses a kink (two window values swapping order),
/// central differences at `EPS` and `EPS / 2` disagree, and that point says
/// nothing about the gradient, so it is skipped; such points must stay rare.
#[derive(Default)]
struct Tally {
    checked: usize,
    skipped: usize,
}

impl Tally {
    fn check(&mut self, what: &str, index: usize, analytic: f32, mut loss_at: impl FnMut(f32) -> f64) {
        const EPS: f32 = 1e-2;
        let wide = (loss_at(EPS) - loss_at(-EPS)) / (2.0 * EPS as f64);
        let narrow = (loss_at(EPS / 2.0) - loss_at(-EPS / 2.0)) / EPS as f64;
        if !within(wide, narrow) {
            self.skipped += 1;
            return;
        }
        self.checked += 1;
        let a = analytic as f64;
        assert!(
            within(a, narrow),
            "{what} {index}: analytic {a}, finite difference {narrow}"
        );
    }

    fn finish(&self, what: &str) {
        assert!(self.checked > 0, "{what}: nothing checked");
        assert!(
            self.skipped * 20 <= self.checked,
            "{what}: {} of {} points sit on a kink; too many to trust the check",
            self.skipped,
            self.checked + self.skipped
        );
    }
}

/// Checks the gradients of every parameter (a spread of up to 300) and of
/// every input against central differences of the training-mode forward pass.
pub fn check_network<M: Model>(net: &mut M, batch: usize, seed: u64) {
    let mut rng = rng(seed);
    let spec = M::SPEC;
    let inputs: Vec<Vec<f32>> = spec
        .inputs
        .iter()
        .map(|t| random_vec(&mut rng, batch * t.len()))
        .collect();
    let r: Vec<Vec<f32>> = spec
        .outputs
        .iter()
        .map(|t| random_vec(&mut rng, batch * t.len()))
        .collect();

    net.set_input_grads(true);
    loss(net, batch, &inputs, &r);
    let r_slices: Vec<&[f32]> = r.iter().map(|v| &v[..]).collect();
    net.backward_slices(&r_slices).unwrap();
    let param_grads = net.param_grads().to_vec();
    let input_grads: Vec<Vec<f32>> = (0..inputs.len())
        .map(|i| net.input_grad(i).unwrap().to_vec())
        .collect();
    assert!(
        param_grads.iter().any(|&g| g != 0.0),
        "some parameter gradient is non-zero"
    );

    let mut tally = Tally::default();
    let stride = (param_grads.len() / 300).max(1);
    for j in (0..param_grads.len()).step_by(stride) {
        let key = spec
            .params
            .iter()
            .find(|p| p.trainable && (p.offset..p.offset + p.len).contains(&j));
        let what = format!("parameter {}", key.map_or("?", |p| p.key));
        let orig = net.params()[j];
        tally.check(&what, j, param_grads[j], |step| {
            net.params_mut()[j] = orig + step;
            let l = loss(net, batch, &inputs, &r);
            net.params_mut()[j] = orig;
            l
        });
    }
    for (i, grads) in input_grads.iter().enumerate() {
        let stride = (grads.len() / 100).max(1);
        let mut probe = inputs.clone();
        for j in (0..grads.len()).step_by(stride) {
            let what = format!("input `{}`", spec.inputs[i].name);
            let orig = probe[i][j];
            tally.check(&what, j, grads[j], |step| {
                probe[i][j] = orig + step;
                let l = loss(net, batch, &probe, &r);
                probe[i][j] = orig;
                l
            });
        }
    }
    tally.finish(spec.name);
}

pub fn assert_close(what: &str, actual: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * (1.0 + e.abs()),
            "{what}: index {i}: got {a}, expected {e}"
        );
    }
}

#[path = "../../nn-runtime/tests/common/temp_dir.rs"]
mod temp_dir;
#[allow(unused_imports)] // each test crate uses what it needs
pub use temp_dir::{TempDir, TempPath};
