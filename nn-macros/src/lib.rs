//! The `network!` macro. The expansion itself is the plain function
//! `nn_macros_core::expand`, so tests and the fuzzer can call it without a
//! compiler; this crate only converts between `proc_macro` and
//! `proc_macro2` tokens.

use proc_macro::TokenStream;

/// Declares one or more networks (and blocks shared between them).
///
/// See the `nn` crate's documentation for the grammar and a Keras guide.
#[proc_macro]
pub fn network(input: TokenStream) -> TokenStream {
    nn_macros_core::expand(input.into()).into()
}
