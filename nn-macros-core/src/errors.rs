//! Collects every error of an invocation so one build reports them all.

use std::fmt::Display;

use proc_macro2::Span;

#[derive(Default)]
pub struct Errors {
    list: Vec<syn::Error>,
}

impl Errors {
    pub fn push(&mut self, span: Span, message: impl Display) {
        self.list.push(syn::Error::new(span, message));
    }

    /// An error underlining all of `tokens` (first to last), even on stable.
    pub fn push_spanned(&mut self, tokens: impl quote::ToTokens, message: impl Display) {
        self.list.push(syn::Error::new_spanned(tokens, message));
    }

    pub fn push_error(&mut self, error: syn::Error) {
        self.list.push(error);
    }

    /// Drops the errors after the first `count` (ones reported elsewhere).
    pub fn truncate(&mut self, count: usize) {
        self.list.truncate(count);
    }

    pub fn count(&self) -> usize {
        self.list.len()
    }

    /// All errors as one `syn::Error` (rendered as several `compile_error!`s).
    pub fn combined(self) -> Option<syn::Error> {
        let mut iter = self.list.into_iter();
        let mut first = iter.next()?;
        for e in iter {
            first.combine(e);
        }
        Some(first)
    }
}
