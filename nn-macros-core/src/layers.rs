//! Phase 2a, layer calls: `Layer(args...)` parsed against the layer's
//! argument table in the vocabulary ([`nn_vocab`]): positional and keyword
//! arguments, each value checked against its kind, then handed to the
//! layer's own constructor for defaults and validation. Every problem is a
//! spanned error.

use nn_vocab::{
    Activation, Argument, ArgumentError, Arguments, Initializer, LayerConfig, Padding, Padding1D, Value,
    ValueKind,
};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Lit};

/// The callable layer classes, for "unknown layer" messages.
pub fn layer_names() -> String {
    LayerConfig::DESCRIPTIONS
        .iter()
        .filter(|d| d.constructible)
        .map(|d| d.class)
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn is_layer(name: &str) -> bool {
    LayerConfig::constructor(name).is_some()
}

/// A constructed layer before it is applied: configuration, optional user
/// name, and whether its weights train (`trainable = false` freezes them).
pub struct Constructed {
    pub config: LayerConfig,
    pub user_name: Option<(String, Span)>,
    pub trainable: bool,
}

/// Parses `Layer(args...)`. `eval_int` evaluates integer expressions in the
/// caller's scope (block parameters, loop variables, arithmetic).
pub fn construct(
    layer: &syn::Ident,
    args: &[Expr],
    eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>,
) -> Result<Constructed, Vec<syn::Error>> {
    let Some(description) = LayerConfig::constructor(&layer.to_string()) else {
        return Err(vec![syn::Error::new(
            layer.span(),
            format!("unknown layer `{layer}`"),
        )]);
    };
    let class = description.class;
    let specs: Vec<Argument> = description
        .arguments
        .iter()
        .copied()
        .chain(nn_vocab::argument::COMMON)
        .collect();
    let mut errors = Vec::new();
    let mut values: Vec<Option<(Value, Span)>> = vec![None; specs.len()];
    // Given at all, even if invalid: a bad value is not also "missing".
    let mut given = vec![false; specs.len()];
    let mut positional = 0;
    let mut seen_keyword = false;
    for arg_expr in args {
        let (slot, value_expr) = match arg_expr {
            Expr::Assign(assign) => {
                seen_keyword = true;
                let name = match &*assign.left {
                    Expr::Path(p) => p.path.get_ident(),
                    _ => None,
                };
                let key = match name {
                    Some(ident) => ident.to_string(),
                    None => {
                        let other = &*assign.left;
                        errors.push(syn::Error::new_spanned(other, "expected an argument name"));
                        continue;
                    }
                };
                match specs.iter().position(|s| s.name == key) {
                    Some(i) => (i, &*assign.right),
                    None => {
                        let expected: Vec<&str> = specs.iter().map(|s| s.name).collect();
                        let message = match crate::suggest::did_you_mean(&key, expected.iter().copied()) {
                            Some(close) => {
                                format!("{class} has no argument `{key}`; did you mean `{close}`?")
                            }
                            None => format!(
                                "{class} has no argument `{key}`; its arguments are: {}",
                                expected.join(", ")
                            ),
                        };
                        errors.push(syn::Error::new_spanned(&assign.left, message));
                        continue;
                    }
                }
            }
            other => {
                if seen_keyword {
                    errors.push(syn::Error::new_spanned(
                        other,
                        format!("{class}: positional argument after a keyword argument"),
                    ));
                    continue;
                }
                let positional_count = description.arguments.len();
                if positional >= positional_count {
                    errors.push(syn::Error::new_spanned(
                        other,
                        format!(
                            "{class} takes at most {positional_count} positional argument{}",
                            if positional_count == 1 { "" } else { "s" }
                        ),
                    ));
                    continue;
                }
                positional += 1;
                (positional - 1, other)
            }
        };
        if given[slot] {
            errors.push(syn::Error::new_spanned(
                value_expr,
                format!("{class}: argument `{}` is given twice", specs[slot].name),
            ));
            continue;
        }
        given[slot] = true;
        match parse_value(class, &specs[slot], value_expr, eval_int) {
            Ok(v) => values[slot] = Some((v, value_expr.span())),
            Err(e) => errors.push(e),
        }
    }
    for (spec, given) in specs.iter().zip(&given) {
        if spec.required && !given {
            errors.push(syn::Error::new(
                layer.span(),
                format!(
                    "{class} is missing its `{}` argument ({})",
                    spec.name,
                    spec.kind.describe()
                ),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let span_of = |name: &str| {
        let i = specs.iter().position(|s| s.name == name);
        i.and_then(|i| values[i].as_ref().map(|(_, s)| *s))
            .unwrap_or(layer.span())
    };
    let mut arguments = Arguments::new();
    let mut user_name = None;
    let mut trainable = true;
    for (spec, value) in specs.iter().zip(&values) {
        match value {
            Some((Value::Str(name), span)) if spec.name == "name" => {
                if name.is_empty() {
                    return Err(vec![syn::Error::new(
                        *span,
                        "a layer name cannot be empty; give one, or leave out `name` \
                         for an automatic one (`dense_1`, ...)",
                    )]);
                }
                user_name = Some((name.clone(), *span));
            }
            Some((Value::Bool(value), _)) if spec.name == "trainable" => trainable = *value,
            Some((value, _)) => arguments.set(spec.name, value.clone()),
            None => {}
        }
    }
    let built = LayerConfig::from_constructor(class, &arguments).unwrap_or_else(|| {
        Err(vec![ArgumentError {
            argument: None,
            message: format!("layer `{class}` has no constructor (an internal error; please report it)"),
        }])
    });
    let config = built.map_err(|errors| {
        errors
            .into_iter()
            .map(|e| {
                let span = e.argument.map_or(layer.span(), span_of);
                syn::Error::new(span, e.message)
            })
            .collect::<Vec<_>>()
    })?;
    if !trainable && !crate::codegen::can_freeze(&config) {
        return Err(vec![syn::Error::new(
            span_of("trainable"),
            format!("{class}: `trainable = false` is not supported for this layer kind yet"),
        )]);
    }
    Ok(Constructed {
        config,
        user_name,
        trainable,
    })
}

fn parse_value(
    class: &str,
    spec: &Argument,
    expr: &Expr,
    eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>,
) -> Result<Value, syn::Error> {
    let wrong = || {
        syn::Error::new_spanned(
            expr,
            format!(
                "{class}: argument `{}` expects {}",
                spec.name,
                spec.kind.describe()
            ),
        )
    };
    let positive = |v: i64, e: &Expr| -> Result<usize, syn::Error> {
        if v <= 0 {
            Err(syn::Error::new_spanned(
                e,
                format!("{class}: `{}` must be at least 1, got {v}", spec.name),
            ))
        } else {
            Ok(v as usize)
        }
    };
    let word = || -> Option<String> {
        match expr {
            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => Some(s.value()),
                _ => None,
            },
            _ => None,
        }
    };
    match spec.kind {
        ValueKind::Int => positive(eval_int(expr)?, expr).map(Value::Int),
        ValueKind::IntOrPair => match expr {
            Expr::Tuple(t) if t.elems.len() == 2 => {
                let a = positive(eval_int(&t.elems[0])?, &t.elems[0])?;
                let b = positive(eval_int(&t.elems[1])?, &t.elems[1])?;
                Ok(Value::Pair([a, b]))
            }
            Expr::Tuple(_) | Expr::Array(_) => Err(wrong()),
            _ => positive(eval_int(expr)?, expr).map(Value::Int),
        },
        ValueKind::Padding => match word().as_deref() {
            Some("causal") => Err(syn::Error::new_spanned(
                expr,
                format!("{class}: `causal` padding is for Conv1D only (as in Keras); use `same` or `valid`"),
            )),
            Some(w) => Padding::from_name(w).map(Value::Padding).ok_or_else(wrong),
            None => Err(wrong()),
        },
        ValueKind::Padding1D => match word().as_deref().and_then(Padding1D::from_name) {
            Some(padding) => Ok(Value::Padding1D(padding)),
            None => Err(wrong()),
        },
        ValueKind::CountOrPair => {
            let count = |e: &Expr, eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>| {
                let v = eval_int(e)?;
                usize::try_from(v).map_err(|_| {
                    syn::Error::new_spanned(e, format!("{class}: `{}` must be ≥ 0, got {v}", spec.name))
                })
            };
            match expr {
                Expr::Tuple(t) if t.elems.len() == 2 => {
                    let a = count(&t.elems[0], eval_int)?;
                    let b = count(&t.elems[1], eval_int)?;
                    Ok(Value::Pair([a, b]))
                }
                Expr::Tuple(_) | Expr::Array(_) => Err(wrong()),
                _ => count(expr, eval_int).map(Value::Int),
            }
        }
        ValueKind::Activation => match word() {
            Some(w) => Activation::from_name(&w).map(Value::Activation).ok_or_else(|| {
                let names = Activation::NAMES.iter().copied();
                // Keras activations this runtime lacks are not typos of the
                // ones it has (`gelu` is not `relu`).
                let close = crate::suggest::did_you_mean(&w, names)
                    .filter(|_| !Activation::OTHER_KERAS_NAMES.contains(&w.as_str()));
                let message = match close {
                    Some(close) => format!("unknown activation `{w}`; did you mean `{close}`?"),
                    None => format!(
                        "unknown activation `{w}`; expected one of: {}",
                        Activation::NAMES.join(", ")
                    ),
                };
                syn::Error::new_spanned(expr, message)
            }),
            None => Err(wrong()),
        },
        ValueKind::Initializer => match word() {
            Some(w) => Initializer::from_name(&w).map(Value::Initializer).ok_or_else(|| {
                syn::Error::new_spanned(
                    expr,
                    format!(
                        "unknown initializer `{w}`; expected one of: {}",
                        Initializer::NAMES.join(", ")
                    ),
                )
            }),
            None => Err(wrong()),
        },
        ValueKind::Ints => {
            let elems: Vec<&Expr> = match expr {
                Expr::Tuple(t) => t.elems.iter().collect(),
                Expr::Array(a) => a.elems.iter().collect(),
                _ => vec![expr],
            };
            let values: Result<Vec<i64>, syn::Error> = elems.into_iter().map(&mut *eval_int).collect();
            values.map(Value::Ints)
        }
        ValueKind::Axis => eval_int(expr).map(Value::Axis),
        ValueKind::Border => {
            let amount = |e: &Expr, eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>| {
                let v = eval_int(e)?;
                usize::try_from(v).map_err(|_| {
                    syn::Error::new_spanned(
                        e,
                        format!("{class}: `{}` amounts must be ≥ 0, got {v}", spec.name),
                    )
                })
            };
            let pair = |e: &Expr, eval_int: &mut dyn FnMut(&Expr) -> Result<i64, syn::Error>| match e {
                Expr::Tuple(t) if t.elems.len() == 2 => {
                    Ok((amount(&t.elems[0], eval_int)?, amount(&t.elems[1], eval_int)?))
                }
                Expr::Tuple(_) | Expr::Array(_) => Err(wrong()),
                _ => {
                    let v = amount(e, eval_int)?;
                    Ok((v, v))
                }
            };
            match expr {
                // ((top, bottom), (left, right))
                Expr::Tuple(t)
                    if t.elems.len() == 2 && t.elems.iter().all(|e| matches!(e, Expr::Tuple(_))) =>
                {
                    let (top, bottom) = pair(&t.elems[0], eval_int)?;
                    let (left, right) = pair(&t.elems[1], eval_int)?;
                    Ok(Value::Border([[top, bottom], [left, right]]))
                }
                // (rows, columns): that many on each side.
                Expr::Tuple(t) if t.elems.len() == 2 => {
                    let rows = amount(&t.elems[0], eval_int)?;
                    let columns = amount(&t.elems[1], eval_int)?;
                    Ok(Value::Border([[rows, rows], [columns, columns]]))
                }
                Expr::Tuple(_) | Expr::Array(_) => Err(wrong()),
                _ => {
                    let v = amount(expr, eval_int)?;
                    Ok(Value::Border([[v, v], [v, v]]))
                }
            }
        }
        ValueKind::Bool => match expr {
            Expr::Lit(l) => match &l.lit {
                Lit::Bool(b) => Ok(Value::Bool(b.value)),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        },
        ValueKind::Float => {
            // `-0.5` is a negation of a literal: accepted here so the range
            // check can say what is allowed instead of "expects a number".
            let (negative, literal) = match expr {
                Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => (true, &*u.expr),
                other => (false, other),
            };
            let value = match literal {
                Expr::Lit(l) => match &l.lit {
                    Lit::Float(f) => f.base10_parse::<f32>()?,
                    Lit::Int(i) => i.base10_parse::<f32>()?,
                    _ => return Err(wrong()),
                },
                _ => return Err(wrong()),
            };
            if !value.is_finite() {
                return Err(syn::Error::new_spanned(
                    expr,
                    format!("{class}: `{}` is out of range for an f32", spec.name),
                ));
            }
            Ok(Value::Float(if negative { -value } else { value }))
        }
        ValueKind::Str => match expr {
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => Ok(Value::Str(s.value())),
                _ => Err(wrong()),
            },
            _ => Err(wrong()),
        },
    }
}
