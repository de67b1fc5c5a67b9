//! Reusable scratch memory owned by the caller.

use std::sync::Mutex;

/// Scratch floats and indices that grow to the largest request and never
/// shrink, so a repeated call allocates nothing.
#[derive(Debug, Default)]
pub struct Scratch {
    floats: Vec<f32>,
    indices: Vec<usize>,
}

impl Scratch {
    fn grow(&mut self, floats: usize, indices: usize) {
        if self.floats.len() < floats {
            self.floats.resize(floats, 0.0);
        }
        if self.indices.len() < indices {
            self.indices.resize(indices, 0);
        }
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.floats.capacity() * std::mem::size_of::<f32>()
            + self.indices.capacity() * std::mem::size_of::<usize>()
    }

    /// A scratch slice of exactly `len` floats; contents are unspecified.
    pub fn take(&mut self, len: usize) -> &mut [f32] {
        self.grow(len, 0);
        &mut self.floats[..len]
    }

    /// Disjoint float slices and index slices of the given lengths. The same
    /// lengths give the same slices again, contents kept.
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

/// Scratch space that kernels borrow for the duration of one call: a shared
/// part (gather tables, flipped kernels) and one part per kernel thread
/// (padded images, partial gradient sums).
///
/// Once a network has run one step at a given batch size and thread count,
/// later steps allocate nothing.
#[derive(Debug, Default)]
pub struct Workspace {
    shared: Scratch,
    per_thread: Vec<Mutex<Scratch>>,
    /// Weights a kernel derives and then hands, with this workspace, to
    /// another kernel (a convolution with a batch normalization folded in).
    derived: Scratch,
}

impl Workspace {
    pub fn new() -> Self {
        Self::default()
    }

    /// Floats held by the shared part.
    pub fn len(&self) -> usize {
        self.shared.floats.len()
    }

    pub fn is_empty(&self) -> bool {
        self.shared.floats.is_empty()
    }

    /// Bytes held by the shared part and every thread's part.
    pub fn bytes(&self) -> usize {
        self.shared.bytes()
            + self.derived.bytes()
            + self.per_thread.iter().map(|s| lock(s).bytes()).sum::<usize>()
    }

    /// Runs `f` with `len` floats of derived-weight scratch and the rest of
    /// the workspace, for a kernel that prepares weights for another.
    pub fn with_derived<R>(&mut self, len: usize, f: impl FnOnce(&mut [f32], &mut Workspace) -> R) -> R {
        let mut derived = std::mem::take(&mut self.derived);
        let result = f(derived.take(len), self);
        self.derived = derived;
        result
    }

    /// A shared scratch slice of exactly `len` floats.
    pub fn take(&mut self, len: usize) -> &mut [f32] {
        self.shared.take(len)
    }

    /// Two disjoint shared scratch slices of `a` and `b` floats.
    pub fn take2(&mut self, a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
        self.shared.take(a + b).split_at_mut(a)
    }

    /// Disjoint shared float and index slices.
    pub fn parts<const F: usize, const I: usize>(
        &mut self,
        floats: [usize; F],
        indices: [usize; I],
    ) -> ([&mut [f32]; F], [&mut [usize]; I]) {
        self.shared.parts(floats, indices)
    }

    /// The shared part and one scratch per thread slot (`threads` of them).
    pub fn split(&mut self, threads: usize) -> (&mut Scratch, &[Mutex<Scratch>]) {
        while self.per_thread.len() < threads {
            self.per_thread.push(Mutex::new(Scratch::default()));
        }
        (&mut self.shared, &self.per_thread[..threads])
    }
}

/// Locks a thread slot's scratch (uncontended: one task per slot at a time).
pub fn lock(slot: &Mutex<Scratch>) -> std::sync::MutexGuard<'_, Scratch> {
    slot.lock().unwrap_or_else(|e| e.into_inner())
}
