//! `Custom(value, output = [d, ..], weights = [w = [d, ..], ..], name = "..")`:
//! a user-defined layer.
//! `value` is any Rust expression whose type implements `nn::CustomLayer`;
//! it is not evaluated here but kept for the constructor, which evaluates
//! it once. The declared output shape is what later layers see; whether
//! the value agrees is checked when the network is constructed.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, Ident};

use super::{Builder, Scope, Value};
use nn_vocab::layer::{Custom, CustomWeight, MAX_CUSTOM_AXES, MAX_CUSTOM_WEIGHTS};
use nn_vocab::LayerConfig;

const SYNTAX: &str = "a custom layer is written `Custom(value, output = [d1, d2, ..])(x)` \
                      (optionally with `weights = [name = [d1, ..], ..]`), where `value` implements \
                      `nn::CustomLayer`";

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
        let mut weights: Option<Vec<CustomWeight>> = None;
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
                Some("weights") if weights.is_none() => match self.custom_weights(&assign.right, scope) {
                    Some(declared) => weights = Some(declared),
                    None => failed = true,
                },
                Some(key @ ("output" | "name" | "weights")) => {
                    self.errors
                        .push_spanned(&assign.left, format!("Custom: argument `{key}` is given twice"));
                    failed = true;
                }
                _ => {
                    self.errors.push_spanned(
                        &assign.left,
                        "Custom takes only `output = [..]`, `weights = [..]` and `name = \"..\"` \
                         after its value",
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
            // The vocabulary holds configurations as `Copy` constants with
            // `'static` data (built-in layers' names are literals); a user's
            // weight names and shapes live as long as the compiler process,
            // a few bytes per weight.
            weights: Box::leak(weights.unwrap_or_default().into_boxed_slice()),
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

    /// `[scale = [8], bias = [8]]`: each weight's name and shape.
    fn custom_weights(&mut self, expr: &Expr, scope: &Scope) -> Option<Vec<CustomWeight>> {
        const FORM: &str =
            "Custom: `weights` lists each weight's name and shape, like `weights = [scale = [8]]`";
        let Expr::Array(array) = expr else {
            self.errors.push_spanned(expr, FORM);
            return None;
        };
        if array.elems.len() > MAX_CUSTOM_WEIGHTS {
            self.errors.push_spanned(
                expr,
                format!(
                    "Custom: at most {MAX_CUSTOM_WEIGHTS} weights, got {}",
                    array.elems.len()
                ),
            );
            return None;
        }
        let mut declared: Vec<CustomWeight> = Vec::new();
        let mut ok = true;
        for element in &array.elems {
            let named = match element {
                Expr::Assign(a) => match &*a.left {
                    Expr::Path(p) => p.path.get_ident().map(|name| (name, &*a.right)),
                    _ => None,
                },
                _ => None,
            };
            let Some((name, shape)) = named else {
                self.errors.push_spanned(element, FORM);
                ok = false;
                continue;
            };
            let name = name.to_string();
            if declared.iter().any(|w| w.name == name) {
                self.errors
                    .push_spanned(element, format!("Custom: weight `{name}` is declared twice"));
                ok = false;
                continue;
            }
            let Some(dims) = self.custom_dims("weight", shape, scope) else {
                ok = false;
                continue;
            };
            let weight = CustomWeight {
                name: Box::leak(name.into_boxed_str()),
                shape: Box::leak(dims.into_boxed_slice()),
            };
            declared.push(weight);
        }
        ok.then_some(declared)
    }

    /// `[d1, d2, ..]`: each a positive compile-time integer.
    fn custom_output(&mut self, expr: &Expr, scope: &Scope) -> Option<Vec<usize>> {
        self.custom_dims("output", expr, scope)
    }

    /// `what` (`output` or `weight`) as `[d1, d2, ..]`: each a positive
    /// compile-time integer.
    fn custom_dims(&mut self, what: &str, expr: &Expr, scope: &Scope) -> Option<Vec<usize>> {
        let Expr::Array(array) = expr else {
            self.errors.push_spanned(
                expr,
                format!("Custom: `{what}` is a shape per sample as a list of integers, like `[8, 8, 3]`"),
            );
            return None;
        };
        if array.elems.is_empty() || array.elems.len() > MAX_CUSTOM_AXES {
            self.errors.push_spanned(
                expr,
                format!(
                    "Custom: `{what}` has 1 to {MAX_CUSTOM_AXES} dimensions (no batch axis), got {}",
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
                        format!("Custom: every `{what}` dimension must be at least 1, got {v}"),
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
