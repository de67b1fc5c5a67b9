//! Fuzzes the `network!` expansion: 10,000 seeded mutations of every
//! network in the repository must each expand without a panic, into valid
//! Rust, with every error spanned on the input. `examples/macro_fuzz.rs`
//! runs a million and prints the counts.

mod fuzz;

#[test]
fn every_seed_program_expands_without_errors() {
    let seeds = fuzz::seeds();
    assert!(seeds.len() >= 20, "found only {} seed networks", seeds.len());
    for (name, text) in &seeds {
        assert_eq!(fuzz::run(text), fuzz::Outcome::Accepted, "seed {name}:\n{text}");
    }
}

#[test]
fn ten_thousand_mutants_never_panic_and_every_error_is_spanned() {
    let counts = fuzz::fuzz_parallel(10_000, 2);
    println!("{counts:?}");
    for (text, outcome) in &counts.failures {
        eprintln!("{outcome:?}\n  on: {text}\n");
    }
    assert_eq!(counts.failed(), 0, "{counts:?}");
    // The mutations reach both sides of the macro, not just the lexer.
    assert!(counts.accepted > 100 && counts.rejected > 1000, "{counts:?}");
}
