//! The `network!` macro: a neural network written in Rust source, its shapes
//! checked at compile time, expanded into straight-line forward and backward
//! code over `nn-runtime`.
//!
//! Phases, one module each: `ast` parses, `graph` interprets the
//! statements into a layer graph (blocks inlined, loops unrolled, shapes
//! inferred by `shape`), `plan` lays out memory, `codegen` emits code.
//! Every problem is a spanned compile error; the macro never panics.

mod ast;
mod codegen;
mod errors;
mod graph;
mod layers;
mod plan;
mod shape;
mod spec_emit;

use proc_macro::TokenStream;

/// Declares one or more networks (and blocks shared between them).
///
/// See the `nn` crate's documentation for the grammar and a Keras guide.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    let invocation = match syn::parse::<ast::Invocation>(input) {
        Ok(inv) => inv,
        Err(e) => return e.to_compile_error().into(),
    };
    let mut errors = errors::Errors::default();
    let mut out = proc_macro2::TokenStream::new();
    for def in &invocation.networks {
        match graph::build(def, &invocation.blocks, &mut errors) {
            Some(graph) => out.extend(codegen::expand(def, &graph)),
            None => out.extend(codegen::stub(def)),
        }
    }
    if let Some(e) = errors.combined() {
        out.extend(e.to_compile_error());
    }
    out.into()
}
