//! `Custom(value, output = [d, ..], name = "..")`: a user-defined layer.
//! `value` is any Rust expression whose type implements `nn::CustomLayer`;
//! it is not evaluated here but kept for the constructor, which evaluates
//! it once. The declared output shape is what later layers see; whether
//! the value agrees is checked when the network is constructed.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, Ident};

use super::{Builder, Scope, Value};
use nn_vocab::layer::{Custom, MAX_CUSTOM_AXES};
use nn_vocab::LayerConfig;

const SYNTAX: &str = "a custom layer is written `Custom(value, output = [d1, d2, ..])(x)`, \
                      where `value` implements `nn::CustomLayer`";

impl<'a> Builder<'a> {
    /// Parses `Custom(..)` into a layer (not yet applied).
    pub(super) fn custom_layer(
        &mut self,
        ident: &Ident,
        args: &[&'a Expr],
        whole: &'a Expr,
        scope: &Scope,
    ) -> Value {
        let mut value: Option<&Expr> = None;
        let mut output: Option<Vec<usize>> = None;
        let mut user_name: Option<(String, Span)> = None;
        let mut failed = false;
        for (position, arg) in args.iter().enumerate() {
            let Expr::Assign(assign) = arg else {
                if position == 0 {
                    value = Some(arg);
                } else {
                    self.errors.push_spanned(
                        arg,
                        format!("Custom takes one value and then `output = [..]`; {SYNTAX}"),
                    );
                    failed = true;
                }
                continue;
            };
            let key = match &*assign.left {
                Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                _ => None,
            };
            match key.as_deref() {
                Some("output") if output.is_none() => match self.custom_output(&assign.right, scope) {
                    Some(dims) => output = Some(dims),
                    None => failed = true,
                },
                Some("name") if user_name.is_none() => match &*assign.right {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) if !s.value().is_empty() => user_name = Some((s.value(), s.span())),
                    other => {
                        self.errors.push_spanned(
                            other,
                            "a layer's `name` is a non-empty string, like `name = \"scale\"`",
                        );
                        failed = true;
                    }
                },
                Some(key @ ("output" | "name")) => {
                    self.errors
                        .push_spanned(&assign.left, format!("Custom: argument `{key}` is given twice"));
                    failed = true;
                }
                _ => {
                    self.errors.push_spanned(
                        &assign.left,
                        "Custom takes only `output = [..]` and `name = \"..\"` after its value \
                         (weights are not supported yet)",
                    );
                    failed = true;
                }
            }
        }
        if value.is_none() {
            self.errors
                .push(ident.span(), format!("Custom is missing its value; {SYNTAX}"));
            failed = true;
        }
        if output.is_none() && !failed {
            self.errors.push(
                ident.span(),
                format!(
                    "Custom is missing its `output = [..]` argument (the output shape per sample); {SYNTAX}"
                ),
            );
            failed = true;
        }
        let (Some(value), Some(dims), false) = (value, output, failed) else {
            return Value::Poison;
        };
        let mut config = Custom {
            output: [0; MAX_CUSTOM_AXES],
            rank: dims.len(),
            // Numbered in summary order when the graph is finished.
            index: 0,
        };
        config.output[..dims.len()].copy_from_slice(&dims);
        let layers_before = self.layers.len();
        let layer = self.new_layer(LayerConfig::Custom(config), user_name, whole.to_token_stream());
        if self.layers.len() > layers_before {
            self.layers[layer].custom = Some(value.clone());
        }
        Value::Layer(layer)
    }

    /// `[d1, d2, ..]`: each a positive compile-time integer.
    fn custom_output(&mut self, expr: &Expr, scope: &Scope) -> Option<Vec<usize>> {
        let Expr::Array(array) = expr else {
            self.errors.push_spanned(
                expr,
                "Custom: `output` is the output shape per sample as a list of integers, like `output = [8, 8, 3]`",
            );
            return None;
        };
        if array.elems.is_empty() || array.elems.len() > MAX_CUSTOM_AXES {
            self.errors.push_spanned(
                expr,
                format!(
                    "Custom: `output` has 1 to {MAX_CUSTOM_AXES} dimensions (no batch axis), got {}",
                    array.elems.len()
                ),
            );
            return None;
        }
        let mut dims = Vec::new();
        let mut ok = true;
        for dim in &array.elems {
            let mut ignored = Vec::new();
            match self.eval_int_pure(dim, scope, &mut ignored) {
                Ok(v) if v >= 1 => dims.push(v as usize),
                Ok(v) => {
                    self.errors.push_spanned(
                        dim,
                        format!("Custom: every `output` dimension must be at least 1, got {v}"),
                    );
                    ok = false;
                }
                Err(e) => {
                    self.errors.push_error(e);
                    ok = false;
                }
            }
        }
        ok.then_some(dims)
    }
}
