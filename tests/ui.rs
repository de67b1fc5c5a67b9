//! Compile-fail tests: every class of mistake in a `network!` block is a
//! compile error on the user's own tokens. Each case's expected message is
//! checked in beside it (`tests/ui/<group>/<case>.stderr`), so the files read
//! as the specification of the macro's diagnostics. `pass/` holds programs
//! that must compile: hygiene against user names, `#![deny(missing_docs)]`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/shapes/*.rs");
    t.compile_fail("tests/ui/arguments/*.rs");
    t.compile_fail("tests/ui/names/*.rs");
    t.compile_fail("tests/ui/structure/*.rs");
    t.compile_fail("tests/ui/callbacks/*.rs");
    t.compile_fail("tests/ui/limits/*.rs");
    t.compile_fail("tests/ui/silent/*.rs");
    t.compile_fail("tests/ui/keras/*.rs");
    t.compile_fail("tests/ui/surface/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
