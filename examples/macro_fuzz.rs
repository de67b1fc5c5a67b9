//! Fuzzes the `network!` expansion with a million seeded mutations of every
//! network in the repository and prints what happened to them.
//!
//! `cargo run --release --example macro_fuzz [-- CASES [THREADS]]`
//!
//! A case is replayable alone: case `i` mutates seed `i % seeds` with an RNG
//! seeded by `i` (see `tests/fuzz/mod.rs`).

#[path = "../tests/fuzz/mod.rs"]
mod fuzz;

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cases: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let threads: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2);
    let seeds = fuzz::seeds().len();
    let start = Instant::now();
    let counts = fuzz::fuzz_parallel(cases, threads);
    let seconds = start.elapsed().as_secs_f64();
    println!("{cases} mutants of {seeds} seed networks on {threads} threads in {seconds:.1} s");
    println!("  does not lex (rustc stops first): {:>8}", counts.unlexable);
    println!("  accepted:                         {:>8}", counts.accepted);
    println!("  rejected, every error spanned:    {:>8}", counts.rejected);
    println!("  panicked:                         {:>8}", counts.panicked);
    println!("  error not spanned on the input:   {:>8}", counts.unspanned);
    println!("  output not valid Rust:            {:>8}", counts.invalid_output);
    for (text, outcome) in &counts.failures {
        println!("\n{outcome:?}\n  on: {text}");
    }
    if counts.failed() > 0 {
        std::process::exit(1);
    }
}
