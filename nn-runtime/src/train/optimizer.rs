//! Optimizers over a network's flat parameter buffer, with Keras's update
//! rules and defaults. State is allocated on the first step, once.
//!
//! Constructors take any numbers and training checks them: the fields are
//! public (Keras's `optimizer.learning_rate = ...`), so a check at
//! construction would guarantee nothing, while [`Optimizer::check`] before
//! every update sees the values the update will really use, schedules and
//! callbacks included.

use crate::model_error::NnError;
use crate::train::schedule::{LearningRateSchedule, Scheduled};

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of `params` from `grads` (same length, every step).
    fn step(&mut self, params: &mut [f32], grads: &[f32]);
    /// The learning rate the next step will use (Keras's
    /// `optimizer.learning_rate`).
    fn learning_rate(&self) -> f32;
    /// Sets the learning rate of the following steps, as Keras's
    /// `optimizer.learning_rate = lr`. Fails for a NaN, infinite or
    /// negative rate, and for an optimizer driven by a schedule (Keras
    /// refuses that too).
    fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), NnError>;
    fn name(&self) -> &'static str;

    /// Checks the settings other than the learning rate (betas, epsilon,
    /// momentum, ...), each against its meaningful range.
    fn check_settings(&self) -> Result<(), NnError> {
        Ok(())
    }

    /// Checks the learning rate the next step will use and every other
    /// setting. `train_step` and `fit` call it before every update, so a
    /// bad value is reported, by name and value, before it touches a weight.
    fn check(&self) -> Result<(), NnError> {
        checked_rate(self.name(), self.learning_rate())?;
        self.check_settings()
    }

    /// This optimizer with its learning rate set by `schedule` before every
    /// step (Keras's `Adam(learning_rate=schedule)`).
    fn scheduled<S: LearningRateSchedule>(self, schedule: S) -> Scheduled<Self, S>
    where
        Self: Sized,
    {
        Scheduled::new(self, schedule)
    }
}

/// A learning rate usable for an update: finite and not negative.
pub(crate) fn checked_rate(optimizer: &'static str, learning_rate: f32) -> Result<f32, NnError> {
    setting(optimizer, "learning_rate", learning_rate, Range::Rate)?;
    Ok(learning_rate)
}

/// The meaningful values of a setting.
#[derive(Clone, Copy)]
enum Range {
    /// Learning rates and decays: finite, `>= 0`.
    Rate,
    /// Decay factors (betas, rho): `[0, 1)`; 1 would stop the average moving.
    Fraction,
    /// Momentum: `[0, 1]`, as Keras checks.
    Momentum,
    /// Epsilon: finite, `> 0`, so no update divides 0 by 0.
    Positive,
}

impl Range {
    fn holds(self, v: f64) -> bool {
        match self {
            Range::Rate => v.is_finite() && v >= 0.0,
            Range::Fraction => (0.0..1.0).contains(&v),
            Range::Momentum => (0.0..=1.0).contains(&v),
            Range::Positive => v.is_finite() && v > 0.0,
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            Range::Rate => "a finite number >= 0",
            Range::Fraction => "a number in [0, 1)",
            Range::Momentum => "a number in [0, 1]",
            Range::Positive => "a finite number > 0",
        }
    }
}

/// `value` (an `f32` or `f64`, shown as the user gave it) checked against `range`.
fn setting<V: Into<f64> + Copy + std::fmt::Display>(
    optimizer: &'static str,
    name: &'static str,
    value: V,
    range: Range,
) -> Result<(), NnError> {
    if range.holds(value.into()) {
        Ok(())
    } else {
        Err(NnError::Hyperparameter {
            optimizer,
            name,
            value: value.to_string(),
            expected: range.phrase(),
        })
    }
}

fn ensure(state: &mut Vec<f32>, len: usize) {
    if state.len() != len {
        *state = vec![0.0; len];
    }
}

/// Stochastic gradient descent with optional (Nesterov) momentum:
/// `v = momentum * v - lr * g; w += v` (Nesterov: `w += momentum * v - lr * g`).
#[derive(Debug, Clone)]
pub struct Sgd {
    pub learning_rate: f32,
    pub momentum: f32,
    pub nesterov: bool,
    velocity: Vec<f32>,
}

impl Sgd {
    pub fn new(learning_rate: f32) -> Self {
        Self::with_momentum(learning_rate, 0.0, false)
    }

    pub fn with_momentum(learning_rate: f32, momentum: f32, nesterov: bool) -> Self {
        Self {
            learning_rate,
            momentum,
            nesterov,
            velocity: Vec::new(),
        }
    }
}

impl Optimizer for Sgd {
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        let lr = self.learning_rate;
        if self.momentum == 0.0 {
            params.iter_mut().zip(grads).for_each(|(w, g)| *w -= lr * g);
            return;
        }
        ensure(&mut self.velocity, params.len());
        let m = self.momentum;
        for ((w, g), v) in params.iter_mut().zip(grads).zip(self.velocity.iter_mut()) {
            *v = m * *v - lr * g;
            *w += if self.nesterov { m * *v - lr * g } else { *v };
        }
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), NnError> {
        self.learning_rate = checked_rate(self.name(), learning_rate)?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "SGD"
    }

    fn check_settings(&self) -> Result<(), NnError> {
        setting("SGD", "momentum", self.momentum, Range::Momentum)
    }
}

/// Adam (Keras arguments and defaults: `beta_1 = 0.9`, `beta_2 = 0.999`,
/// `epsilon = 1e-7`; `decay` is the legacy time-based decay
/// `lr / (1 + decay * iterations)`).
///
/// The update is Keras 3's, in its precision: the betas are Python floats
/// (`f64` here), so `1 - beta_2` is formed in double precision and then
/// rounded to `f32` (0.001, where `1 - 0.999f32` would give 0.00099998713 and
/// every step would come out 6.4e-6 relatively too large); the bias
/// corrections `beta^t` are `f32` powers, as Keras casts the betas to the
/// variable's dtype for them.
#[derive(Debug, Clone)]
pub struct Adam {
    pub learning_rate: f32,
    pub beta_1: f64,
    pub beta_2: f64,
    pub epsilon: f32,
    pub decay: f32,
    iterations: u64,
    m: Vec<f32>,
    v: Vec<f32>,
}

impl Adam {
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
            decay: 0.0,
            iterations: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    /// The lecture's `Adam(lr=0.001, beta_1=0.9, beta_2=0.999)`.
    pub fn with_betas(learning_rate: f32, beta_1: f64, beta_2: f64) -> Self {
        Self {
            beta_1,
            beta_2,
            ..Self::new(learning_rate)
        }
    }

    /// Updates applied so far (Keras's `optimizer.iterations`).
    pub fn iterations(&self) -> u64 {
        self.iterations
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        ensure(&mut self.m, params.len());
        ensure(&mut self.v, params.len());
        let lr = self.learning_rate();
        self.iterations += 1;
        let local_step = self.iterations as f32;
        let beta_1_power = (self.beta_1 as f32).powf(local_step);
        let beta_2_power = (self.beta_2 as f32).powf(local_step);
        let alpha = lr * (1.0 - beta_2_power).sqrt() / (1.0 - beta_1_power);
        let one_minus_beta_1 = (1.0 - self.beta_1) as f32;
        let one_minus_beta_2 = (1.0 - self.beta_2) as f32;
        let eps = self.epsilon;
        for (((w, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            *m += (g - *m) * one_minus_beta_1;
            *v += (g * g - *v) * one_minus_beta_2;
            *w -= *m * alpha / (v.sqrt() + eps);
        }
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate / (1.0 + self.decay * self.iterations as f32)
    }

    /// Sets the base rate (before the legacy `decay`, which is 0 unless set).
    fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), NnError> {
        self.learning_rate = checked_rate(self.name(), learning_rate)?;
        Ok(())
    }

    fn check_settings(&self) -> Result<(), NnError> {
        // The base rate too: with `decay`, a NaN base would hide behind
        // the decayed rate only until it reached the weights.
        checked_rate("Adam", self.learning_rate)?;
        setting("Adam", "beta_1", self.beta_1, Range::Fraction)?;
        setting("Adam", "beta_2", self.beta_2, Range::Fraction)?;
        setting("Adam", "epsilon", self.epsilon, Range::Positive)?;
        setting("Adam", "decay", self.decay, Range::Rate)
    }

    fn name(&self) -> &'static str {
        "Adam"
    }
}

/// RMSprop (Keras defaults: `rho = 0.9`, `epsilon = 1e-7`, no momentum):
/// `a = rho * a + (1 - rho) * g²; w -= lr * g / (sqrt(a) + ε)`.
#[derive(Debug, Clone)]
pub struct RmsProp {
    pub learning_rate: f32,
    pub rho: f32,
    pub epsilon: f32,
    pub momentum: f32,
    mean_square: Vec<f32>,
    velocity: Vec<f32>,
}

impl RmsProp {
    pub fn new(learning_rate: f32) -> Self {
        Self {
            learning_rate,
            rho: 0.9,
            epsilon: 1e-7,
            momentum: 0.0,
            mean_square: Vec::new(),
            velocity: Vec::new(),
        }
    }
}

impl Optimizer for RmsProp {
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        ensure(&mut self.mean_square, params.len());
        let (lr, rho, eps, mom) = (self.learning_rate, self.rho, self.epsilon, self.momentum);
        if mom == 0.0 {
            for ((w, &g), a) in params.iter_mut().zip(grads).zip(self.mean_square.iter_mut()) {
                *a = rho * *a + (1.0 - rho) * g * g;
                *w -= lr * g / (a.sqrt() + eps);
            }
            return;
        }
        ensure(&mut self.velocity, params.len());
        for (((w, &g), a), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.mean_square.iter_mut())
            .zip(self.velocity.iter_mut())
        {
            *a = rho * *a + (1.0 - rho) * g * g;
            *v = mom * *v + lr * g / (a.sqrt() + eps);
            *w -= *v;
        }
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate
    }

    fn set_learning_rate(&mut self, learning_rate: f32) -> Result<(), NnError> {
        self.learning_rate = checked_rate(self.name(), learning_rate)?;
        Ok(())
    }

    fn name(&self) -> &'static str {
        "RMSprop"
    }

    fn check_settings(&self) -> Result<(), NnError> {
        setting("RMSprop", "rho", self.rho, Range::Fraction)?;
        setting("RMSprop", "epsilon", self.epsilon, Range::Positive)?;
        setting("RMSprop", "momentum", self.momentum, Range::Momentum)
    }
}
