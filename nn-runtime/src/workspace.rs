//! Reusable scratch memory owned by the caller.

/// Scratch space that kernels borrow for the duration of one call (im2col
/// columns, per-channel partial sums).
///
/// It grows to the largest request it has seen and never shrinks, so once a
/// network has run one step at a given batch size, later steps allocate
/// nothing.
#[derive(Debug, Default)]
pub struct Workspace {
    buffer: Vec<f32>,
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// A workspace that already holds `len` floats.
    pub fn with_capacity(len: usize) -> Self {
        Self {
            buffer: vec![0.0; len],
        }
    }

    /// Floats currently held.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// A scratch slice of exactly `len` floats; contents are unspecified.
    pub fn take(&mut self, len: usize) -> &mut [f32] {
        if self.buffer.len() < len {
            self.buffer.resize(len, 0.0);
        }
        &mut self.buffer[..len]
    }

    /// Two disjoint scratch slices of `a` and `b` floats.
    pub fn take2(&mut self, a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
        self.take(a + b).split_at_mut(a)
    }
}
