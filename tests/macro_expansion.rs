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

/// First-writer gradients on the lecture's residual network: every
/// gradient region is overwritten by the first layer to write it (dense,
/// poolings, convolutions, the residual adds), so the only region the
/// backward pass zeroes is the network input's, which is written only when
/// asked for.
#[test]
fn lecture_residual_backward_zeroes_only_the_input_gradient() {
    let text = r#"
        fn residual(x, n) {
            let a = Conv2D(n, 3, padding = same, activation = relu)(x);
            let z = Conv2D(n, 3, padding = same)(a);
            relu(add(z, x))
        }
        pub struct ResidualNet {
            input x: [64, 64, 3];
            let x0 = Conv2D(16, (3, 3), strides = 1, padding = same, activation = relu)(x);
            let x1 = residual(x0, 16);
            let x2 = Conv2D(32, (3, 3), strides = 1, padding = same, activation = relu)(x1);
            let x2 = MaxPooling2D((2, 2))(x2);
            let x2 = residual(x2, 32);
            let x2 = MaxPooling2D((2, 2))(x2);
            output y = Dense(6, activation = softmax)(flatten(x2));
        }
    "#;
    let output = nn_macros_core::expand(TokenStream::from_str(text).expect("lexes")).to_string();
    let count = |needle: &str| output.matches(needle).count();
    assert_eq!(count("arena :: zero"), 1, "zeroed regions");
    // The dense, 2 poolings, 3 convolutions (each block's second, the one
    // between the blocks) and the 2 adds, into their shortcuts; each
    // block's first convolution then adds into its shortcut's gradient.
    let overwrites = count("GradWrite :: Overwrite") + count("merge :: overwrite");
    assert_eq!(overwrites, 8, "first writes that overwrite");
    // Inference runs the convolution before the first pooling with it (the
    // second pooling's input is a residual block's fused add).
    assert_eq!(count("conv2d_then_pool"), 1, "convolutions pooled in groups");
}
