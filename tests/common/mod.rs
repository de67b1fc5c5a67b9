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

/// Tallies a gradient check. Max pooling (and `abs`, `relu`) make the loss
/// piecewise smooth, and a difference whose step crosses a kink (two window
/// values swapping order) says little about the gradient at the point. A
/// kink a distance `d` away biases every step above `d` alike, so two such
/// steps can agree on a wrong value, while on the kink's other side the
/// one-sided difference stays clean. So each point is tried at `EPS` and
/// `EPS / 2`, then at halved steps, and passes once two successive steps
/// agree with each other and with the analytic gradient, in the central or
/// in the right or left one-sided difference. It fails if the two smallest
/// central differences agree with each other but no difference matched; it
/// is skipped as a kink otherwise, and skipped points must stay rare.
#[derive(Default)]
struct Tally {
    checked: usize,
    skipped: usize,
}

/// Central, right and left differences at one step.
#[derive(Clone, Copy)]
struct Differences {
    central: f64,
    right: f64,
    left: f64,
}

impl Tally {
    fn check(&mut self, what: &str, index: usize, analytic: f32, mut loss_at: impl FnMut(f32) -> f64) {
        const EPS: f32 = 1e-2;
        // EPS / 64 ≈ 1.6e-4: below that the f32 forward pass's rounding,
        // divided by the step, approaches the comparison's tolerance.
        const HALVINGS: i32 = 6;
        let a = analytic as f64;
        let at_zero = loss_at(0.0);
        let mut differences = |step: f32| {
            let (plus, minus, h) = (loss_at(step), loss_at(-step), step as f64);
            Differences {
                central: (plus - minus) / (2.0 * h),
                right: (plus - at_zero) / h,
                left: (at_zero - minus) / h,
            }
        };
        let mut wide = differences(EPS);
        for k in 1..=HALVINGS {
            let narrow = differences(EPS / (1 << k) as f32);
            let matches = |w: f64, n: f64| within(w, n) && within(a, n);
            if matches(wide.central, narrow.central)
                || matches(wide.right, narrow.right)
                || matches(wide.left, narrow.left)
            {
                self.checked += 1;
                return;
            }
            if k == HALVINGS && within(wide.central, narrow.central) {
                panic!(
                    "{what} {index}: analytic {a}, finite difference {} (one-sided {} / {})",
                    narrow.central, narrow.right, narrow.left
                );
            }
            wide = narrow;
        }
        self.skipped += 1;
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
    // Stale gradients must never leak in: every region is zeroed or
    // overwritten by its first writer before anything adds to or reads it.
    poison_gradient_arena(net);
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

/// Fills the activation-gradient arena with NaN, as if it held garbage from
/// another pass.
pub fn poison_gradient_arena<M: Model>(net: &mut M) {
    net.core_mut().arena.grads.fill(f32::NAN);
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
