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

/// The programs adversarial testing found, run without a compiler: each is
/// a clean rejection (no panic, no hang, errors on the input's tokens).
#[test]
fn programs_that_once_panicked_or_hung_are_rejected_with_spans() {
    let rejected = [
        "struct A { input v: [4294967296]; output y = Dense(4294967296)(v); }",
        "struct A { input v: [65536]; let h = Dense(40000)(v); let h = Dense(40000)(h); output y = Dense(40000)(h); }",
        "struct A { input x: [4]; let h = x; for _ in 0..1000 { for _ in 0..1000 { h = Dense(4)(h); } } output y = h; }",
        "fn twice(x) { let a = twice(x); let b = twice(x); add(a, b) } struct A { input x: [4]; output y = twice(x); }",
        "struct A { input x: [28, 28, 1]; output y = Dense(10)(flatten(MaxPooling2D(99999999, strides = 1, padding = same)(x))); }",
        "struct A { input x: [4]; output y = Dense(-(-9223372036854775807 - 1))(x); }",
        "struct A { input x: [4]; for i in -9223372036854775807..9223372036854775807 { } output y = x; }",
        "struct A { input x: [4, 4, 1]; output y = Dense(2)(flatten(Conv2D(4, 4294967296, padding = same)(x))); }",
        "struct A { input x: [4]; output y = Dense(2)(BatchNormalization(epsilon = 1e40)(x)); }",
    ];
    for text in rejected {
        assert_eq!(fuzz::run(text), fuzz::Outcome::Rejected, "{text}");
    }
    let accepted = "struct A { input x: [4]; let h = x; \
         for i in 9223372036854775807..=9223372036854775807 { h = Dense(i - i + 4)(h); } output y = h; }";
    assert_eq!(fuzz::run(accepted), fuzz::Outcome::Accepted);
}
