//! Which algorithm computes a [`Conv2d`]: the direct gathered GEMM or
//! Winograd ([`crate::winograd`]), chosen per layer from its shape by a
//! measured cost rule, overridable with `NN_CONV` or, per thread, [`force`].

use std::cell::Cell;
use std::sync::OnceLock;

use crate::conv2d::Conv2d;
use crate::error::KernelError;
use crate::winograd::Tile;

/// How a convolution is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Gathered GEMM over the padded image (every layer can use it).
    Direct,
    /// Winograd with the given output tile (stride-1 3x3 layers only).
    Winograd(Tile),
}

/// A request for an algorithm: what `NN_CONV` or [`force`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// The cost rule decides ([`auto`]).
    Auto,
    /// Always the direct kernel.
    Direct,
    /// Winograd with this tile wherever the layer allows it (stride-1 3x3),
    /// whatever the cost rule says; direct elsewhere.
    Winograd(Tile),
}

/// The environment variable that overrides the cost rule.
pub const ENV: &str = "NN_CONV";

/// Parses a value of `NN_CONV`.
pub fn parse_env(value: &str) -> Result<Choice, KernelError> {
    match value.trim() {
        "" | "auto" => Ok(Choice::Auto),
        "direct" => Ok(Choice::Direct),
        "winograd" | "winograd4" => Ok(Choice::Winograd(Tile::F4)),
        "winograd2" => Ok(Choice::Winograd(Tile::F2)),
        other => Err(KernelError::InvalidArgument {
            kernel: "conv2d",
            message: format!(
                "environment variable {ENV}={other:?} is not understood; expected `auto`, `direct`, \
                 `winograd` (= `winograd4`, F(4x4,3x3)) or `winograd2` (F(2x2,3x3))"
            ),
        }),
    }
}

const UNSET: u8 = 0;

thread_local! {
    // Per thread, like `gather::force`: a test comparing algorithms does not
    // change what tests running beside it exercise.
    static FORCED: Cell<u8> = const { Cell::new(UNSET) };
}

/// Overrides `NN_CONV` and the cost rule for convolutions called from this
/// thread; `None` returns to them.
pub fn force(choice: Option<Choice>) {
    let code = match choice {
        None => UNSET,
        Some(Choice::Auto) => 1,
        Some(Choice::Direct) => 2,
        Some(Choice::Winograd(Tile::F2)) => 3,
        Some(Choice::Winograd(Tile::F4)) => 4,
    };
    FORCED.with(|f| f.set(code));
}

/// What this thread asks for: [`force`], else `NN_CONV` (read once per
/// process), else [`Choice::Auto`].
pub fn requested() -> Result<Choice, KernelError> {
    match FORCED.with(Cell::get) {
        1 => return Ok(Choice::Auto),
        2 => return Ok(Choice::Direct),
        3 => return Ok(Choice::Winograd(Tile::F2)),
        4 => return Ok(Choice::Winograd(Tile::F4)),
        _ => {}
    }
    static FROM_ENV: OnceLock<Result<Choice, KernelError>> = OnceLock::new();
    FROM_ENV
        .get_or_init(|| match std::env::var_os(ENV) {
            None => Ok(Choice::Auto),
            Some(value) => parse_env(&value.to_string_lossy()),
        })
        .clone()
}

/// Whether Winograd can compute the layer at all: a 3x3 kernel at stride 1.
pub fn winograd_applies(conv: &Conv2d) -> bool {
    let w = &conv.window;
    w.kernel_h == 3 && w.kernel_w == 3 && w.stride_h == 1 && w.stride_w == 1
}

/// The cost rule: the algorithm expected to be faster for this layer.
pub fn auto(conv: &Conv2d) -> Algorithm {
    if !winograd_applies(conv) {
        return Algorithm::Direct;
    }
    let (c, f) = (conv.in_channels, conv.filters);
    if c >= 16 && f >= 16 {
        Algorithm::Winograd(Tile::F4)
    } else {
        Algorithm::Direct
    }
}

/// The algorithm for `conv` under the current request.
pub fn choose(conv: &Conv2d) -> Result<Algorithm, KernelError> {
    Ok(match requested()? {
        Choice::Auto => auto(conv),
        Choice::Direct => Algorithm::Direct,
        Choice::Winograd(tile) if winograd_applies(conv) => Algorithm::Winograd(tile),
        Choice::Winograd(_) => Algorithm::Direct,
    })
}
