//! A tensor's dimensions as compile-time integers: `channels(x)`,
//! `height(x)`, `width(x)`, usable wherever `network!` takes an integer
//! (layer arguments, `let` bindings, block arguments, arithmetic), so a
//! DenseNet's growing channel count is read off the tensor instead of
//! being tracked by hand.

use syn::{Expr, Ident};

/// The dimension functions, for "unknown name" messages.
pub const NAMES: &[&str] = &["channels", "height", "width"];

/// What a tensor name in the argument refers to, as the graph sees it.
pub enum Operand {
    Tensor(Vec<usize>),
    /// Something else (an integer, a layer) or nothing: the message to show.
    Not(String),
}

/// The value of `name(args)` if `name` is a dimension function; `operand`
/// looks a tensor name up. Every misuse is an error spanned on `whole`.
pub fn query(
    name: &str,
    args: &[&Expr],
    whole: &Expr,
    mut operand: impl FnMut(&Ident) -> Operand,
) -> Option<Result<i64, syn::Error>> {
    if !NAMES.contains(&name) {
        return None;
    }
    let err = |message: String| syn::Error::new_spanned(whole, message);
    let tensor = match args {
        [Expr::Path(p)] => p.path.get_ident(),
        _ => None,
    };
    let Some(tensor) = tensor else {
        return Some(Err(err(format!(
            "`{name}(...)` takes one tensor name, e.g. `{name}(x)`; name the tensor with `let` first"
        ))));
    };
    let shape = match operand(tensor) {
        Operand::Tensor(shape) => shape,
        Operand::Not(message) => return Some(Err(err(message))),
    };
    let show = |shape: &[usize]| {
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        format!("[{}]", dims.join(", "))
    };
    let value = match (name, shape.as_slice()) {
        ("channels", [.., c]) => *c,
        ("height", [h, _, _]) => *h,
        ("width", [_, w, _]) => *w,
        _ => {
            return Some(Err(err(format!(
                "`{name}({tensor})` needs an image tensor `[height, width, channels]`, but `{tensor}` is {}",
                show(&shape)
            ))))
        }
    };
    Some(i64::try_from(value).map_err(|_| err(format!("`{name}({tensor})` is too large"))))
}
