//! Timing and input helpers shared by the kernel benchmarks.
// Each benchmark includes this module and uses a subset of it.
#![allow(dead_code)]

use std::time::Instant;

/// Median seconds of `repeats` timed runs of `f` after one warm-up run.
pub fn median_seconds(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(|a, b| a.total_cmp(b));
    times[repeats / 2]
}

/// Deterministic values in [-0.5, 0.5) without a random generator.
pub fn filled(len: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 % 1000) as f32 / 1000.0) - 0.5)
        .collect()
}
