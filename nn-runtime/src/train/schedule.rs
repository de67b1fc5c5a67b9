//! Learning-rate schedules evaluated at every optimizer step, as Keras's
//! `keras.optimizers.schedules`: `Adam::new(0.0).scheduled(ExponentialDecay
//! ::new(1e-3, 1000, 0.96, true)?)` is Keras's
//! `Adam(learning_rate=ExponentialDecay(1e-3, 1000, 0.96, staircase=True))`.
//!
//! Keras passes the optimizer's `iterations` (updates applied so far, 0 for
//! the first update) to the schedule; [`Scheduled`] does the same.

use crate::model_error::NnError;
use crate::train::optimizer::Optimizer;

/// A learning rate as a function of the optimizer step.
pub trait LearningRateSchedule {
    /// The rate of the update that follows `step` earlier updates.
    fn rate(&self, step: u64) -> f32;
}

fn positive(what: &str, name: &str, value: f64) -> Result<(), NnError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(NnError::Other(format!(
            "{what}: `{name}` must be > 0, got {value}"
        )))
    }
}

/// `initial_learning_rate * decay_rate ^ (step / decay_steps)`, with the
/// exponent floored when `staircase`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExponentialDecay {
    pub initial_learning_rate: f64,
    pub decay_steps: u64,
    pub decay_rate: f64,
    pub staircase: bool,
}

impl ExponentialDecay {
    pub fn new(
        initial_learning_rate: f64,
        decay_steps: u64,
        decay_rate: f64,
        staircase: bool,
    ) -> Result<Self, NnError> {
        positive("ExponentialDecay", "decay_steps", decay_steps as f64)?;
        positive("ExponentialDecay", "decay_rate", decay_rate)?;
        Ok(Self {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase,
        })
    }
}

impl LearningRateSchedule for ExponentialDecay {
    fn rate(&self, step: u64) -> f32 {
        let mut p = step as f64 / self.decay_steps as f64;
        if self.staircase {
            p = p.floor();
        }
        (self.initial_learning_rate * self.decay_rate.powf(p)) as f32
    }
}

/// `values[0]` up to and including step `boundaries[0]`, `values[i]` for
/// `boundaries[i-1] < step <= boundaries[i]`, `values[last]` after the last
/// boundary.
#[derive(Debug, Clone, PartialEq)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<u64>,
    values: Vec<f32>,
}

impl PiecewiseConstantDecay {
    /// Needs one more value than boundaries, and increasing boundaries.
    pub fn new(boundaries: Vec<u64>, values: Vec<f32>) -> Result<Self, NnError> {
        if values.len() != boundaries.len() + 1 {
            return Err(NnError::Other(format!(
                "PiecewiseConstantDecay: {} boundaries need {} values, got {}",
                boundaries.len(),
                boundaries.len() + 1,
                values.len()
            )));
        }
        if boundaries.windows(2).any(|w| w[0] >= w[1]) {
            return Err(NnError::Other(format!(
                "PiecewiseConstantDecay: boundaries {boundaries:?} must increase"
            )));
        }
        Ok(Self { boundaries, values })
    }
}

impl LearningRateSchedule for PiecewiseConstantDecay {
    fn rate(&self, step: u64) -> f32 {
        let piece = self.boundaries.iter().take_while(|&&b| step > b).count();
        self.values[piece]
    }
}

/// Cosine decay from `initial_learning_rate` to `alpha` times it over
/// `decay_steps`; with `warmup_target`, first a linear warm-up from
/// `initial_learning_rate` to `warmup_target` over `warmup_steps`, then the
/// decay starts from `warmup_target` (Keras 3's `CosineDecay`).
#[derive(Debug, Clone, PartialEq)]
pub struct CosineDecay {
    pub initial_learning_rate: f64,
    pub decay_steps: u64,
    pub alpha: f64,
    pub warmup_target: Option<f64>,
    pub warmup_steps: u64,
}

impl CosineDecay {
    pub fn new(initial_learning_rate: f64, decay_steps: u64) -> Result<Self, NnError> {
        positive("CosineDecay", "decay_steps", decay_steps as f64)?;
        Ok(Self {
            initial_learning_rate,
            decay_steps,
            alpha: 0.0,
            warmup_target: None,
            warmup_steps: 0,
        })
    }

    /// The floor, as a fraction of the starting rate (Keras's `alpha`).
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// A linear warm-up to `target` over `steps` steps before the decay.
    pub fn with_warmup(mut self, target: f64, steps: u64) -> Self {
        self.warmup_target = Some(target);
        self.warmup_steps = steps;
        self
    }

    fn decay(&self, step: f64, from: f64) -> f64 {
        let completed = step / self.decay_steps as f64;
        let cosine = 0.5 * (1.0 + (std::f64::consts::PI * completed).cos());
        from * ((1.0 - self.alpha) * cosine + self.alpha)
    }
}

impl LearningRateSchedule for CosineDecay {
    fn rate(&self, step: u64) -> f32 {
        let Some(target) = self.warmup_target else {
            let step = step.min(self.decay_steps) as f64;
            return self.decay(step, self.initial_learning_rate) as f32;
        };
        let step = step.min(self.decay_steps + self.warmup_steps);
        if step < self.warmup_steps {
            let completed = step as f64 / self.warmup_steps as f64;
            ((target - self.initial_learning_rate) * completed + self.initial_learning_rate) as f32
        } else {
            self.decay((step - self.warmup_steps) as f64, target) as f32
        }
    }
}

/// An optimizer whose learning rate follows a schedule, step by step.
#[derive(Debug, Clone)]
pub struct Scheduled<O, S> {
    pub optimizer: O,
    pub schedule: S,
    iterations: u64,
}

impl<O: Optimizer, S: LearningRateSchedule> Scheduled<O, S> {
    pub fn new(optimizer: O, schedule: S) -> Self {
        Self {
            optimizer,
            schedule,
            iterations: 0,
        }
    }

    /// Updates applied so far.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }
}

impl<O: Optimizer, S: LearningRateSchedule> Optimizer for Scheduled<O, S> {
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        // `check` has refused a rate the inner optimizer would refuse here
        // (training calls it first); a direct caller who skipped it gets
        // the last accepted rate.
        self.optimizer
            .set_learning_rate(self.schedule.rate(self.iterations))
            .ok();
        self.optimizer.step(params, grads);
        self.iterations += 1;
    }

    fn learning_rate(&self) -> f32 {
        self.schedule.rate(self.iterations)
    }

    fn set_learning_rate(&mut self, _learning_rate: f32) -> Result<(), NnError> {
        Err(NnError::Other(format!(
            "{}: the learning rate follows a schedule and cannot be set (as in Keras); \
             use a constant rate with ReduceLROnPlateau or LearningRateScheduler instead",
            self.optimizer.name()
        )))
    }

    fn name(&self) -> &'static str {
        self.optimizer.name()
    }

    /// The inner optimizer's settings; its own rate is replaced by the
    /// schedule's at every step, so it is not checked.
    fn check_settings(&self) -> Result<(), NnError> {
        self.optimizer.check_settings()
    }
}
