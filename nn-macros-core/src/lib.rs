//! The `network!` expansion as a plain function over `proc_macro2` tokens:
//! a network written in Rust source, its shapes checked at compile time,
//! expanded into straight-line forward and backward code over `nn-runtime`.
//!
//! The proc-macro crate `nn-macros` only wraps [`expand`]; a proc-macro
//! crate cannot export anything but macros, so the expansion lives here
//! where tests and the fuzzer (`tests/macro_fuzz.rs`) can call it directly.
//!
//! Phases, one module each: `ast` parses, `graph` interprets the
//! statements into a layer graph (blocks inlined, loops unrolled, shapes
//! inferred by `shape`), `plan` lays out memory (`inference_plan` a second layout for
//! inference-mode forward passes), `codegen` emits code.
//! Messages get help from `keras` (Keras spellings the grammar lacks) and
//! `suggest` ("did you mean").
//! Every problem is a spanned compile error; the expansion never panics.

mod ast;
mod blocks;
mod codegen;
mod dimensions;
mod errors;
mod graph;
mod inference_plan;
mod keras;
mod layers;
mod plan;
mod shape;
mod spec_emit;
mod suggest;

use proc_macro2::TokenStream;

/// Expands the body of one `network!` invocation: the generated items, plus
/// a `compile_error!` per problem found (spanned on the user's tokens).
pub fn expand(input: TokenStream) -> TokenStream {
    let invocation = match syn::parse2::<ast::Invocation>(input) {
        Ok(inv) => inv,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = errors::Errors::default();
    blocks::check(&invocation, &mut errors);
    let mut out = TokenStream::new();
    for (i, def) in invocation.networks.iter().enumerate() {
        if invocation.networks[..i]
            .iter()
            .any(|earlier| earlier.name == def.name)
        {
            // One message; a second struct would repeat every item of the first.
            errors.push(
                def.name.span(),
                format!(
                    "network `{}` is defined twice in this `network!`; rename one of them",
                    def.name
                ),
            );
            continue;
        }
        match graph::build(def, &invocation.blocks, &invocation.networks, &mut errors) {
            Some(graph) => out.extend(codegen::expand(def, &graph)),
            None => out.extend(codegen::stub(def)),
        }
    }
    if let Some(e) = errors.combined() {
        out.extend(e.to_compile_error());
    }
    out
}
