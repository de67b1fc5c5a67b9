//! What the `network!` expansion names: only `::nn::__private` for the
//! crate's own items and absolute `::core`/`::std` paths for the standard
//! library, so user items named `Result`, `Some`, `String`, ... and a
//! changing runtime surface cannot break it.

mod fuzz;

use proc_macro2::{TokenStream, TokenTree};
use std::str::FromStr;

/// Every path rooted at `::` in `stream`, as its first two segments.
fn absolute_paths(stream: TokenStream, out: &mut Vec<(String, String)>) {
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    for (k, tree) in trees.iter().enumerate() {
        if let TokenTree::Group(g) = tree {
            absolute_paths(g.stream(), out);
            continue;
        }
        let is_colon = |t: Option<&TokenTree>| matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':');
        // `a::b` and `<T as Trait>::f` continue a path; anything else
        // before `::` starts an absolute one.
        let continues_path = k > 0
            && match &trees[k - 1] {
                TokenTree::Ident(_) => true,
                TokenTree::Punct(p) => matches!(p.as_char(), ':' | '>'),
                _ => false,
            };
        if is_colon(Some(tree)) && is_colon(trees.get(k + 1)) && !continues_path {
            let first = trees.get(k + 2).map(|t| t.to_string()).unwrap_or_default();
            let second = trees.get(k + 5).map(|t| t.to_string()).unwrap_or_default();
            out.push((first, second));
        }
    }
}

/// Identifiers of the standard prelude that a user can shadow.
const SHADOWABLE: &[&str] = &[
    "Result", "Option", "Some", "None", "Ok", "Err", "String", "Vec", "Box",
];

/// Bare uses of shadowable prelude names (not preceded by `::`).
fn bare_prelude_names(stream: TokenStream, out: &mut Vec<String>) {
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    for (k, tree) in trees.iter().enumerate() {
        match tree {
            TokenTree::Group(g) => bare_prelude_names(g.stream(), out),
            TokenTree::Ident(id) if SHADOWABLE.contains(&id.to_string().as_str()) => {
                let after_colons =
                    k >= 1 && matches!(&trees[k - 1], TokenTree::Punct(p) if p.as_char() == ':');
                if !after_colons {
                    out.push(id.to_string());
                }
            }
            _ => {}
        }
    }
}

#[test]
fn expansions_name_only_nn_private_and_absolute_std_paths() {
    for (name, text) in fuzz::seeds() {
        let input = TokenStream::from_str(&text).expect("seeds lex");
        let output = nn_macros_core::expand(input);
        let mut paths = Vec::new();
        absolute_paths(output.clone(), &mut paths);
        assert!(!paths.is_empty(), "{name}: no absolute paths found");
        for (first, second) in &paths {
            match first.as_str() {
                "nn" => assert_eq!(
                    second, "__private",
                    "{name}: `::nn::{second}` bypasses `__private`"
                ),
                "core" | "std" => {}
                other => panic!("{name}: expansion names `::{other}::{second}`"),
            }
        }
        let mut bare = Vec::new();
        bare_prelude_names(output, &mut bare);
        assert!(
            bare.is_empty(),
            "{name}: bare prelude names in the expansion: {bare:?}"
        );
    }
}
