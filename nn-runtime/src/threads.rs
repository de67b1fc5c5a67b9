//! How many threads kernels may use.

use std::sync::atomic::{AtomicUsize, Ordering};

static THREADS: AtomicUsize = AtomicUsize::new(1);

/// Sets the number of threads kernels use (at least 1).
pub fn set(n: usize) {
    THREADS.store(n.max(1), Ordering::Relaxed);
}

/// The number of threads kernels use.
pub fn current() -> usize {
    THREADS.load(Ordering::Relaxed)
}
