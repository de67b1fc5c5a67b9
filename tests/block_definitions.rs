//! Block definitions that would change a network silently are spanned
//! errors: two blocks of one name (one would be ignored), a block named
//! like a built-in (the built-in would be called), a parameter named twice.

use std::str::FromStr;

use proc_macro2::TokenStream;

/// The expansion's `compile_error!` messages for `text` (empty when it is
/// accepted). That every error is spanned on the input is the fuzzer's
/// check (`tests/macro_fuzz.rs`); here the message is what matters.
fn errors(text: &str) -> Vec<String> {
    let out = nn_macros_core::expand(TokenStream::from_str(text).unwrap()).to_string();
    let mut found = Vec::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find("compile_error") {
        rest = &rest[at..];
        let start = rest.find('"').unwrap() + 1;
        let end = start + rest[start..].find("\" ").unwrap();
        found.push(rest[start..end].to_string());
        rest = &rest[end..];
    }
    found
}

fn assert_one_error(text: &str, expected: &str) {
    let errs = errors(text);
    assert!(
        errs.iter().any(|m| m.contains(expected)),
        "expected an error containing {expected:?} for\n{text}\ngot {errs:?}"
    );
}

#[test]
fn a_block_defined_twice_is_an_error() {
    assert_one_error(
        "fn b(x) { Dense(2)(x) } fn b(x) { Dense(3)(x) } struct A { input x: [4]; output y = b(x); }",
        "block `b` is defined twice",
    );
    assert_one_error(
        "struct A { input x: [4]; fn b(x) { x } fn b(x) { Dense(3)(x) } output y = b(x); }",
        "block `b` is defined twice",
    );
}

#[test]
fn a_block_named_like_a_built_in_is_an_error() {
    for name in ["relu", "add", "flatten", "softmax", "Dense", "Conv2D"] {
        assert_one_error(
            &format!("fn {name}(x) {{ Dense(2)(x) }} struct A {{ input x: [4]; output y = Dense(2)(x); }}"),
            &format!("block `{name}` has the name of a built-in"),
        );
    }
}

#[test]
fn a_block_parameter_named_twice_is_an_error() {
    assert_one_error(
        "fn b(x, x) { x } struct A { input x: [4]; input z: [4]; output y = Dense(2)(b(x, z)); }",
        "parameter `x` of block `b` is named twice",
    );
}

#[test]
fn a_network_block_may_shadow_a_shared_one_and_two_networks_share_blocks() {
    let text = "fn b(x) { Dense(2)(x) } \
                struct A { input x: [4]; fn b(x) { Dense(3)(x) } output y = b(x); } \
                struct B { input x: [4]; output y = b(x); }";
    assert_eq!(errors(text), Vec::<String>::new());
}
