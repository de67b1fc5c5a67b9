//! Reusable scratch memory owned by the caller.

/// Scratch space that kernels borrow for the duration of one call (padded
/// images, gather tables, im2col columns, per-channel partial sums).
///
/// It grows to the largest request it has seen and never shrinks, so once a
/// network has run one step at a given batch size, later steps allocate
/// nothing.
#[derive(Debug, Default)]
pub struct Workspace {
    floats: Vec<f32>,
    indices: Vec<usize>,
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Floats currently held.
    pub fn len(&self) -> usize {
        self.floats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.floats.is_empty()
    }

    fn grow(&mut self, floats: usize, indices: usize) {
        if self.floats.len() < floats {
            self.floats.resize(floats, 0.0);
        }
        if self.indices.len() < indices {
            self.indices.resize(indices, 0);
        }
    }

    /// A scratch slice of exactly `len` floats; contents are unspecified.
    pub fn take(&mut self, len: usize) -> &mut [f32] {
        self.grow(len, 0);
        &mut self.floats[..len]
    }

    /// Two disjoint scratch slices of `a` and `b` floats.
    pub fn take2(&mut self, a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
        self.take(a + b).split_at_mut(a)
    }

    /// Float slices of the given lengths and index slices of the given
    /// lengths, all disjoint.
    pub fn parts<const F: usize, const I: usize>(
        &mut self,
        floats: [usize; F],
        indices: [usize; I],
    ) -> ([&mut [f32]; F], [&mut [usize]; I]) {
        self.grow(floats.iter().sum(), indices.iter().sum());
        let mut rest_f: &mut [f32] = &mut self.floats;
        let f = floats.map(|len| {
            let (head, tail) = std::mem::take(&mut rest_f).split_at_mut(len);
            rest_f = tail;
            head
        });
        let mut rest_i: &mut [usize] = &mut self.indices;
        let i = indices.map(|len| {
            let (head, tail) = std::mem::take(&mut rest_i).split_at_mut(len);
            rest_i = tail;
            head
        });
        (f, i)
    }
}
