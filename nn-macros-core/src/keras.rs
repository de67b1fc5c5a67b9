//! Keras (Python) spellings the grammar does not have, recognised so the
//! message can name the `network!` way to write them.

use syn::{Expr, Ident, UnOp};

/// `None`, `-1` or `?`-like placeholders where Keras writes a batch axis.
pub fn is_batch_axis(expr: &Expr) -> bool {
    match expr {
        Expr::Path(p) => p.path.is_ident("None") || p.path.is_ident("batch"),
        Expr::Unary(u) => matches!(u.op, UnOp::Neg(_)) && quote::quote!(#u).to_string() == "- 1",
        _ => false,
    }
}

/// `output y = [a, b];` or `(a, b)`: Keras's list of outputs.
pub fn outputs_hint(name: &Ident, expr: &Expr) -> Option<String> {
    let elems: Vec<String> = match expr {
        Expr::Array(a) => a.elems.iter().map(|e| quote::quote!(#e).to_string()).collect(),
        Expr::Tuple(t) => t.elems.iter().map(|e| quote::quote!(#e).to_string()).collect(),
        _ => return None,
    };
    let lines: Vec<String> = elems
        .iter()
        .enumerate()
        .map(|(i, e)| format!("output {name}_{} = {e};", i + 1))
        .collect();
    Some(format!(
        "a network declares each output on its own, with its own name: `{}`",
        lines.join(" ")
    ))
}

/// Keras constructors with no counterpart call in `network!`.
pub fn callable_hint(name: &str, args: &[&Expr]) -> Option<String> {
    match name {
        "Input" | "InputLayer" => {
            let shape = args.iter().find_map(|a| match a {
                Expr::Assign(assign) if matches!(&*assign.left, Expr::Path(p) if p.path.is_ident("shape")) => {
                    Some(&*assign.right)
                }
                _ => None,
            });
            let dims = match shape {
                Some(Expr::Tuple(t)) => t.elems.iter().map(|e| quote::quote!(#e).to_string()).collect(),
                Some(Expr::Array(a)) => a.elems.iter().map(|e| quote::quote!(#e).to_string()).collect(),
                _ => vec!["28".to_string(), "28".to_string(), "1".to_string()],
            };
            Some(format!(
                "inputs are statements in `network!`, not layers: write `input x: [{}];` at the top of \
                 the network (the shape without the batch axis)",
                dims.join(", ")
            ))
        }
        "Model" | "Functional" => Some(
            "there is no `Model(...)` in `network!`: the `struct` is the model; its inputs are \
             `input x: [...];` statements and its outputs `output y = ...;` statements"
                .into(),
        ),
        "Sequential" => Some(
            "there is no `Sequential` in `network!`: apply the layers in order, e.g. \
             `let h = Conv2D(32, 3, activation = relu)(x); output y = Dense(10)(flatten(h));`"
                .into(),
        ),
        _ => None,
    }
}
