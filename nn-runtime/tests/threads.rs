//! The kernel thread pool: every task index runs exactly once, ranges tile
//! their span, and a panicking task reaches the caller as a panic instead of
//! a hang, leaving the pool usable.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use nn_runtime::threads;

// One test at a time here: they change the global thread count.
static SERIAL: Mutex<()> = Mutex::new(());

#[test]
fn every_task_runs_once_on_two_threads() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    threads::set(2);
    let counts: Vec<AtomicUsize> = (0..1000).map(|_| AtomicUsize::new(0)).collect();
    let slots_seen = Mutex::new(std::collections::BTreeSet::new());
    threads::run(1000, &|i, slot| {
        counts[i].fetch_add(1, Ordering::Relaxed);
        slots_seen.lock().unwrap().insert(slot);
    });
    assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
    assert!(slots_seen.lock().unwrap().iter().all(|&s| s < 2));
}

#[test]
fn ranges_tile_the_span_on_row_boundaries() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    threads::set(2);
    let len = 7 * 50_000;
    let covered: Vec<AtomicUsize> = (0..len).map(|_| AtomicUsize::new(0)).collect();
    threads::for_ranges(len, 7, &|_, range| {
        assert_eq!(range.start % 7, 0, "pieces start on a row");
        for i in range {
            covered[i].fetch_add(1, Ordering::Relaxed);
        }
    });
    assert!(covered.iter().all(|c| c.load(Ordering::Relaxed) == 1));
}

#[test]
fn a_panicking_task_panics_the_caller_and_the_pool_goes_on() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    threads::set(2);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        threads::run(64, &|i, _| {
            if i == 40 {
                panic!("task 40 fails");
            }
        });
    }));
    assert!(outcome.is_err(), "the panic reaches the caller");
    let done = AtomicUsize::new(0);
    threads::run(64, &|_, _| {
        done.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(done.load(Ordering::Relaxed), 64, "the pool still runs every task");
}
