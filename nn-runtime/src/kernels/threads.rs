//! The kernels' threads: how many, and a small persistent pool that runs a
//! batch of independent tasks on them.
//!
//! The pool is built for the hot path: a call hands a borrowed closure to
//! the workers through a mutex and condition variables, the calling thread
//! works too, and nothing is allocated per call, so a training step that
//! uses it still allocates nothing.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};

use crate::model_error::NnError;

/// 0 until [`set`].
static THREADS: AtomicUsize = AtomicUsize::new(0);

/// The most threads kernels use. Beyond the cores of today's largest CPUs
/// more threads only add switching; the cap also bounds the per-thread
/// scratch a kernel may size.
pub const MAX_THREADS: usize = 256;

/// Sets the number of threads kernels use, clamped to `1..=MAX_THREADS`.
/// Takes effect at the next kernel call; workers are started on first use
/// and kept. Overrides `NN_NUM_THREADS`.
pub fn set(n: usize) {
    THREADS.store(n.clamp(1, MAX_THREADS), Ordering::Relaxed);
}

/// The number of threads kernels use: what [`set`] chose, else the
/// `NN_NUM_THREADS` environment variable, else every available core (at
/// most [`MAX_THREADS`]).
///
/// An `NN_NUM_THREADS` that is not a whole number of at least 1 (`-1`,
/// `abc`, empty) makes every network call (forward, predict, fit) return
/// [`NnError::Environment`] through [`configured`]; kernels called directly
/// meanwhile run on one thread.
pub fn current() -> usize {
    configured().unwrap_or(1)
}

/// The configured thread count, or why `NN_NUM_THREADS` cannot be used.
/// Read from the environment once per process.
pub fn configured() -> Result<usize, NnError> {
    match THREADS.load(Ordering::Relaxed) {
        0 => {
            static FROM_ENV: OnceLock<Result<usize, NnError>> = OnceLock::new();
            FROM_ENV
                .get_or_init(|| match std::env::var_os(ENV) {
                    None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
                    Some(value) => parse_env(&value.to_string_lossy()),
                })
                .as_ref()
                .map(|&n| n.min(MAX_THREADS))
                .map_err(Clone::clone)
        }
        n => Ok(n),
    }
}

/// The environment variable that sets the thread count.
pub const ENV: &str = "NN_NUM_THREADS";

/// Parses a value of `NN_NUM_THREADS`: a whole number of at least 1
/// (surrounding spaces allowed; values above [`MAX_THREADS`] mean the cap).
pub fn parse_env(value: &str) -> Result<usize, NnError> {
    match value.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n.min(MAX_THREADS)),
        _ => Err(NnError::Environment {
            variable: ENV,
            value: value.to_string(),
            expected: "a whole number of threads of at least 1 (or leave it unset to use every core)",
        }),
    }
}

/// A task body: called with (task index, worker slot). Slot 0 is the
/// calling thread; slots are below [`current`].
type Task<'a> = dyn Fn(usize, usize) + Sync + 'a;

/// The job being run, as raw pointers valid until `run` returns.
#[derive(Clone, Copy)]
struct Job {
    task: *const Task<'static>,
    next: *const AtomicUsize,
    tasks: usize,
}

// SAFETY: the pointers are only dereferenced while `run` keeps the closure
// and the counter alive (it waits for every worker to finish the job).
unsafe impl Send for Job {}

struct State {
    generation: u64,
    job: Option<Job>,
    /// Workers still running the current job.
    busy: usize,
    /// Workers taking part in the current job.
    wanted: usize,
    /// Whether a task of the current job panicked on a worker.
    panicked: bool,
}

struct Pool {
    state: Mutex<State>,
    start: Condvar,
    done: Condvar,
    spawned: AtomicUsize,
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        state: Mutex::new(State {
            generation: 0,
            job: None,
            busy: 0,
            wanted: 0,
            panicked: false,
        }),
        start: Condvar::new(),
        done: Condvar::new(),
        spawned: AtomicUsize::new(0),
    })
}

fn work(job: Job, slot: usize) {
    // SAFETY: see `Job`.
    let (task, next) = unsafe { (&*job.task, &*job.next) };
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= job.tasks {
            break;
        }
        task(i, slot);
    }
}

fn worker(slot: usize) {
    let pool = pool();
    let mut seen = 0;
    loop {
        let job = {
            let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
            while state.generation == seen || slot >= state.wanted {
                if state.generation != seen {
                    // A job this worker is not part of.
                    seen = state.generation;
                }
                state = pool.start.wait(state).unwrap_or_else(|e| e.into_inner());
            }
            seen = state.generation;
            state.job
        };
        // A panicking task must not leave the caller waiting forever, nor
        // kill the worker: it is caught, reported, and the worker carries on.
        let panicked = job.is_some_and(|job| catch_unwind(AssertUnwindSafe(|| work(job, slot))).is_err());
        let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
        state.panicked |= panicked;
        state.busy -= 1;
        if state.busy == 0 {
            pool.done.notify_all();
        }
    }
}

/// Runs `task(i, slot)` for every `i < tasks`, each exactly once, on up to
/// [`current`] threads, and returns when all are done. A call made while
/// another is using the pool (another thread's network, or a task that calls
/// back in) runs its tasks on the calling thread instead of waiting.
pub fn run(tasks: usize, task: &Task) {
    run_on(current(), tasks, task)
}

/// [`run`] on at most `threads` threads: slots stay below `threads`, so a
/// caller that sized per-slot state with [`current`] before the call is safe
/// even if the setting changes meanwhile.
pub fn run_on(threads: usize, tasks: usize, task: &Task) {
    static CALLER: Mutex<()> = Mutex::new(());
    let threads = threads.clamp(1, MAX_THREADS).min(tasks);
    let guard = if threads > 1 { CALLER.try_lock().ok() } else { None };
    if guard.is_none() {
        for i in 0..tasks {
            task(i, 0);
        }
        return;
    }
    let pool = pool();
    // Start missing workers (callers are serialised by `CALLER`). If the
    // system refuses a thread, work with those that exist.
    while pool.spawned.load(Ordering::Relaxed) < threads - 1 {
        let slot = pool.spawned.load(Ordering::Relaxed) + 1;
        let started = std::thread::Builder::new()
            .name(format!("nn-worker-{slot}"))
            .spawn(move || worker(slot));
        if started.is_err() {
            break;
        }
        pool.spawned.store(slot, Ordering::Relaxed);
    }
    let workers = (threads - 1).min(pool.spawned.load(Ordering::Relaxed));
    if workers == 0 {
        for i in 0..tasks {
            task(i, 0);
        }
        return;
    }
    let threads = workers + 1;
    let next = AtomicUsize::new(0);
    // SAFETY: the lifetime is erased only for the duration of this call,
    // which waits below until no worker uses the job any more.
    let erased: *const Task<'static> = unsafe { std::mem::transmute(task as *const Task) };
    let job = Job {
        task: erased,
        next: &next,
        tasks,
    };
    {
        let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
        state.generation += 1;
        state.job = Some(job);
        state.busy = workers;
        state.wanted = threads;
        pool.start.notify_all();
    }
    // Even if a task panics here, wait for the workers before unwinding:
    // they borrow `task` and `next` from this frame.
    let own = catch_unwind(AssertUnwindSafe(|| work(job, 0)));
    let mut state = pool.state.lock().unwrap_or_else(|e| e.into_inner());
    while state.busy > 0 {
        state = pool.done.wait(state).unwrap_or_else(|e| e.into_inner());
    }
    state.job = None;
    let worker_panicked = std::mem::take(&mut state.panicked);
    drop(state);
    if let Err(payload) = own {
        resume_unwind(payload);
    }
    if worker_panicked {
        panic!("a kernel task panicked on a worker thread");
    }
}

/// Hands out disjoint `chunk`-sized pieces of one mutable slice to tasks
/// running in parallel, one piece per task index.
pub struct Chunks<'a, T> {
    slice: SharedSlice<'a, T>,
    chunk: usize,
}

impl<'a, T> Chunks<'a, T> {
    pub fn new(slice: &'a mut [T], chunk: usize) -> Self {
        Self {
            slice: SharedSlice::new(slice),
            chunk,
        }
    }

    /// Piece `i`.
    ///
    /// # Safety
    /// No two live references may come from the same `i`: call it once per
    /// task index of [`run`], which runs each index exactly once.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn get(&self, i: usize) -> &mut [T] {
        // SAFETY: distinct indices give disjoint ranges; the caller takes
        // each index once.
        unsafe { self.slice.range(i * self.chunk..(i + 1) * self.chunk) }
    }
}

/// Elements below which splitting work costs more than it saves.
const MIN_PARALLEL: usize = 1 << 17;

/// Splits `0..len` into contiguous pieces whose boundaries are multiples of
/// `align` (a row width) and runs `f(piece, range)` on them in parallel,
/// or in one piece when `len` is small.
pub fn for_ranges(len: usize, align: usize, f: &(dyn Fn(usize, std::ops::Range<usize>) + Sync)) {
    let align = align.max(1);
    let pieces = current().min(len / MIN_PARALLEL).max(1);
    if pieces == 1 {
        f(0, 0..len);
        return;
    }
    let chunk = len.div_ceil(pieces).div_ceil(align) * align;
    let pieces = len.div_ceil(chunk);
    run(pieces, &|i, _slot| f(i, i * chunk..((i + 1) * chunk).min(len)));
}

/// The same split as [`for_ranges`] over one mutable slice: `f(piece)`.
pub fn for_chunks_mut(data: &mut [f32], align: usize, f: &(dyn Fn(&mut [f32]) + Sync)) {
    let len = data.len();
    let shared = SharedSlice::new(data);
    for_ranges(len, align, &|_, range| {
        // SAFETY: `for_ranges` hands out disjoint ranges, each once.
        f(unsafe { shared.range(range) })
    });
}

/// A mutable slice that parallel tasks carve into disjoint ranges.
pub struct SharedSlice<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: tasks take disjoint ranges (see `range`).
unsafe impl<T: Send> Sync for SharedSlice<'_, T> {}

impl<'a, T> SharedSlice<'a, T> {
    pub fn new(slice: &'a mut [T]) -> Self {
        Self {
            ptr: slice.as_mut_ptr(),
            len: slice.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    /// The elements in `range` (clamped to the slice).
    ///
    /// # Safety
    /// Ranges taken by live references must not overlap.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn range(&self, range: std::ops::Range<usize>) -> &mut [T] {
        let start = range.start.min(self.len);
        let end = range.end.clamp(start, self.len);
        // SAFETY: `start..end` is clamped into the borrowed slice, and the
        // caller keeps live ranges disjoint.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), end - start) }
    }
}
