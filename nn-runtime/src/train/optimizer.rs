//! Optimizers over a network's flat parameter buffer, with Keras's update
//! rules and defaults. State is allocated on the first step, once.

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of `params` from `grads` (same length, every step).
    fn step(&mut self, params: &mut [f32], grads: &[f32]);
    /// The learning rate the next step will use.
    fn learning_rate(&self) -> f32;
    fn name(&self) -> &'static str;
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

    fn name(&self) -> &'static str {
        "SGD"
    }
}

/// Adam (Keras arguments and defaults: `beta_1 = 0.9`, `beta_2 = 0.999`,
/// `epsilon = 1e-7`; `decay` is the legacy time-based decay
/// `lr / (1 + decay * iterations)`).
#[derive(Debug, Clone)]
pub struct Adam {
    pub learning_rate: f32,
    pub beta_1: f32,
    pub beta_2: f32,
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
    pub fn with_betas(learning_rate: f32, beta_1: f32, beta_2: f32) -> Self {
        Self {
            beta_1,
            beta_2,
            ..Self::new(learning_rate)
        }
    }
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [f32], grads: &[f32]) {
        ensure(&mut self.m, params.len());
        ensure(&mut self.v, params.len());
        let lr = self.learning_rate();
        self.iterations += 1;
        let t = self.iterations as f64;
        let (b1, b2) = (self.beta_1, self.beta_2);
        let corrected = (lr as f64 * (1.0 - (b2 as f64).powf(t)).sqrt() / (1.0 - (b1 as f64).powf(t))) as f32;
        let eps = self.epsilon;
        for (((w, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *w -= corrected * *m / (v.sqrt() + eps);
        }
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate / (1.0 + self.decay * self.iterations as f32)
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

    fn name(&self) -> &'static str {
        "RMSprop"
    }
}
