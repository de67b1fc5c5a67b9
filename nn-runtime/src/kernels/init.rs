//! Weight initializers with Keras's definitions, drawing from a
//! caller-supplied RNG so a seed reproduces a network exactly.

use rand::Rng;

pub use nn_vocab::Initializer;

/// Draws an [`Initializer`]'s values (the vocabulary only names it).
pub trait Fill {
    /// Fills `values` for a tensor with the given fans. For a dense kernel
    /// `fan_in = inputs`, `fan_out = units`; for a convolution kernel both
    /// include the receptive field: `kh*kw*cin` and `kh*kw*cout`.
    fn fill<R: Rng + ?Sized>(self, values: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut R);
}

impl Fill for Initializer {
    fn fill<R: Rng + ?Sized>(self, values: &mut [f32], fan_in: usize, fan_out: usize, rng: &mut R) {
        match self {
            Initializer::Zeros => values.fill(0.0),
            Initializer::Ones => values.fill(1.0),
            Initializer::GlorotUniform => {
                let limit = (6.0 / (fan_in + fan_out).max(1) as f64).sqrt() as f32;
                uniform(values, limit, rng);
            }
            Initializer::HeUniform => {
                let limit = (6.0 / fan_in.max(1) as f64).sqrt() as f32;
                uniform(values, limit, rng);
            }
            Initializer::HeNormal => {
                let stddev = (2.0 / fan_in.max(1) as f64).sqrt();
                for v in values.iter_mut() {
                    *v = (truncated_standard_normal(rng) * stddev) as f32;
                }
            }
        }
    }
}

fn uniform<R: Rng + ?Sized>(values: &mut [f32], limit: f32, rng: &mut R) {
    for v in values.iter_mut() {
        *v = rng.random_range(-limit..=limit);
    }
}

/// A standard normal draw (Box–Muller), redrawn until within two standard
/// deviations.
fn truncated_standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    loop {
        let u1: f64 = 1.0 - rng.random::<f64>(); // (0, 1]: keeps ln finite
        let u2: f64 = rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        if z.abs() <= 2.0 {
            return z;
        }
    }
}
