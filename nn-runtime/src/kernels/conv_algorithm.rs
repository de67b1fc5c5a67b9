//! Which algorithm computes a [`Conv2d`]: the direct gathered GEMM or
//! Winograd ([`crate::winograd`]). By default a measured cost rule
//! ([`auto`]) chooses per layer from its shape. `NN_CONV=direct` (or, per
//! thread, [`force`]) forces the direct kernel, `winograd`/`winograd2` a
//! tile.
//!
//! Besides its larger fp32 error, F(4x4) computes an output whose exact
//! value is zero (a window over a ReLU's zeros) or equal to its
//! neighbour's as a cancellation of larger terms, so rounding, not the
//! data, decides a ReLU or max-pooling kink there, where the direct kernel
//! computes the tie exactly. The lecture examples train as well (test
//! accuracy, one release run each: residual 0.8840 with the rule, 0.8825
//! direct; inception 0.8885 both), but two summation orders of one computation (one process
//! against MPI ranks) part sooner on a ReLU network: see
//! `SmoothResidualNet` in `mpi-tests` and `tools/probes/`.

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
///
/// Winograd trades a GEMM of `9 · cin · cout` products per pixel for one of
/// `a² / m² · cin · cout` plus transforms costing about `cin + cout` per
/// pixel, so it pays when `cin · cout / (cin + cout)` is large enough.
/// Measured with `examples/winograd_bench.rs` (Zen 4, 2 threads, forward
/// plus both gradients, same run): F(4x4,3x3) was slower than direct at
/// 16 -> 16 and 16 -> 32 channels (0.85x of direct's speed) and faster from
/// 32 -> 32 on (1.2x at 32 channels, 1.3x to 1.8x on ResNet-50's 64 to 512),
/// hence `cin · cout / (cin + cout) >= 16`.
/// F(2x2,3x3) saves at most 2.25x, F(4x4,3x3) 4x and was faster on every
/// measured shape, so the rule picks F(4x4) (F(2x2) stays available through
/// `NN_CONV=winograd2`), and only where the padded plane's tiles need at
/// most 0.4x direct's products (tiny planes stay direct: 7x7 needs 0.33x,
/// 6x6 0.44x, 1x1 4x).
pub fn auto(conv: &Conv2d) -> Algorithm {
    if !winograd_applies(conv) {
        return Algorithm::Direct;
    }
    let (c, f) = (conv.in_channels, conv.filters);
    if c * f < MIN_CHANNEL_RATIO * (c + f) {
        return Algorithm::Direct;
    }
    let (oh, ow) = (conv.out_h(), conv.out_w());
    // Products per channel pair over the whole plane.
    let direct = oh * ow * 9;
    let winograd = oh.div_ceil(4) * ow.div_ceil(4) * 36;
    if winograd * 5 <= direct * 2 {
        Algorithm::Winograd(Tile::F4)
    } else {
        Algorithm::Direct
    }
}

/// `cin · cout / (cin + cout)` from which Winograd pays (see [`auto`]).
const MIN_CHANNEL_RATIO: usize = 16;

/// The algorithm for `conv` under the current request.
pub fn choose(conv: &Conv2d) -> Result<Algorithm, KernelError> {
    Ok(match requested()? {
        Choice::Auto => auto(conv),
        Choice::Direct => Algorithm::Direct,
        Choice::Winograd(tile) if winograd_applies(conv) => Algorithm::Winograd(tile),
        Choice::Winograd(_) => Algorithm::Direct,
    })
}

/// The algorithm for `conv` over these operands (the input, and for
/// backward the output gradient): [`choose`], except that operands holding a
/// NaN or an infinity go through the direct kernel. Winograd's transforms
/// mix every value of a tile, so one non-finite pixel would make the whole
/// tile's outputs NaN (and `inf - inf` gives NaN where direct gives inf),
/// while direct keeps it within the kernel's window, as Keras does.
pub fn choose_over(conv: &Conv2d, operands: &[&[f32]]) -> Result<Algorithm, KernelError> {
    let algorithm = choose(conv)?;
    let finite = || operands.iter().all(|values| values.iter().all(|v| v.is_finite()));
    Ok(match algorithm {
        Algorithm::Winograd(_) if !finite() => Algorithm::Direct,
        other => other,
    })
}
