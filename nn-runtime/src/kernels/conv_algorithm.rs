//! Which algorithm computes a [`Conv2d`]: the direct gathered GEMM or
//! Winograd ([`crate::winograd`]). By default a measured cost rule
//! ([`auto`]) chooses per layer from its shape. `NN_CONV=direct` (or, per
//! thread, [`force`]) forces the direct kernel, `winograd`/`winograd2` a
//! tile (4x4 or 2x2 outputs, on 3x3 and 5x5 kernels).
//!
//! Besides its larger fp32 error, F(4x4) computes an output whose exact
//! value is zero (a window over a ReLU's zeros) or equal to its
//! neighbour's as a cancellation of larger terms, so rounding, not the
//! data, decides a ReLU or max-pooling kink there, where the direct kernel
//! computes the tie exactly. The lecture examples train about as well
//! (test accuracy after the default epochs, one run each, `--profile test`):
//! with the rule that also puts the 16-channel 3x3 and the 5x5 layers on
//! F(4x4), residual 0.8895 against 0.8825 direct, inception 0.8805 against
//! 0.8885 direct and 0.8825 with F(2x2) everywhere (`NN_CONV=winograd2`), so
//! the algorithms differ by up to 0.8 points in either direction, as two
//! rounding orders of one training run do. Two summation orders of one
//! computation (one process against MPI ranks) part sooner on a ReLU
//! network: see `SmoothResidualNet` in `mpi-tests` and `tools/probes/`.

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
    /// Winograd with this tile wherever the layer allows it ([`winograd_applies`]),
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
                 `winograd` (= `winograd4`, F(4x4,3x3) and F(4x4,5x5)) or `winograd2` (F(2x2,3x3) and F(2x2,5x5))"
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

/// Whether Winograd can compute the layer: a 3x3 or 5x5 kernel at stride 1
/// (either tile).
pub fn winograd_applies(conv: &Conv2d) -> bool {
    let w = &conv.window;
    w.kernel_h == w.kernel_w && matches!(w.kernel_h, 3 | 5) && w.stride_h == 1 && w.stride_w == 1
}

/// The cost rule: the algorithm expected to be faster for this layer.
///
/// Winograd F(m x m, r x r) trades a GEMM of `r² · cin · cout` products per
/// pixel for one of `a² / m² · cin · cout` (`a = m + r - 1`) plus transforms
/// costing about `a² / m² · (cin + cout)` per pixel, so it pays when
/// `cin · cout / (cin + cout)` is large enough, and only where the padded
/// plane's tiles need at most 0.3x direct's products with F(4x4,r) (whole
/// tiles need 0.25x for 3x3; a 14x14 or 7x7 plane needs 0.33x, 6x6 0.44x,
/// 1x1 4x), or 0.45x with F(2x2,3x3) (whole tiles 0.44x; 14x14 qualifies,
/// 7x7 needs 0.58x).
///
/// Measured with `examples/winograd_bench.rs` (Zen 4, AVX-512, batch 32 for
/// the lecture shapes and 8 for ResNet-50's, same padding; speed-up of
/// forward + input gradient + kernel gradient over direct, medians of 15
/// interleaved runs, 1 thread / 2 threads, load average 9-10 from other
/// builds on the 2 cores, so ±15%):
///
/// | layer | `cin·cout/(cin+cout)` | F(2x2,r) | F(4x4,r) |
/// |---|---:|---:|---:|
/// | 3x3, 64x64, 3→16 | 2.5 | 0.43 / 0.51 | 0.57 / 0.68 |
/// | 3x3, 32x32, 8→8 | 4 | 0.25 / 0.39 | 0.31 / 0.55 |
/// | 3x3, 64x64, 16→16 | 8 | 0.74 / 0.72 | 1.33 / 1.14 |
/// | 3x3, 64x64, 16→32 | 10.7 | 0.86 / 0.89 | 1.21 / 1.20 |
/// | 3x3, 32x32, 32→32 | 16 | 0.84 / 1.13 | 1.86 / 1.66 |
/// | 3x3, 31x31, 32→32 | 16 | 0.88 / 0.95 | 1.43 / 1.55 |
/// | 3x3, 56x56, 64→64 | 32 | 1.49 / 1.58 | 2.07 / 2.06 |
/// | 3x3, 28x28, 128→128 | 64 | 1.62 / 1.54 | 2.09 / 1.62 |
/// | 3x3, 14x14, 256→256 | 128 | 1.14 / 1.12 | 1.21 / 1.04 |
/// | 3x3, 7x7, 512→512 | 256 | 1.19 / 1.12 | 1.12 / 0.99 |
/// | 5x5, 64x64, 16→16 | 8 | 0.83 / 0.85 | 1.45 / 1.72 |
/// | 5x5, 31x31, 32→32 | 16 | 1.20 / 1.09 | 1.83 / 1.98 |
///
/// Hence F(4x4,r) from `cin·cout/(cin+cout) >= 8` on 3x3 and 5x5 layers.
///
/// A rerun on a quiet machine (`--quick`, medians of 5, 1 / 2 threads)
/// agreed on the planes of 28x28 and more, but not on the smallest ones,
/// where F(4x4)'s tiles overhang the plane by a third: 14x14 256→256
/// F(2x2) 1.38 / 1.24, F(4x4) 1.14 / 0.94; 7x7 512→512 F(2x2) 0.90 / 0.84,
/// F(4x4) 0.84 / 0.61. Hence the 0.3x bound on F(4x4)'s products, and
/// F(2x2,3x3) on planes like 14x14 from `cin·cout/(cin+cout) >= 64` (it
/// lost at 32 channels and below: 0.84-0.89).
pub fn auto(conv: &Conv2d) -> Algorithm {
    if !winograd_applies(conv) {
        return Algorithm::Direct;
    }
    let r = conv.window.kernel_h;
    let (c, f) = (conv.in_channels, conv.filters);
    let wide_enough = |min_ratio: usize| c * f >= min_ratio * (c + f);
    let (oh, ow) = (conv.out_h(), conv.out_w());
    // Products per channel pair over the whole plane.
    let direct = oh * ow * r * r;
    let winograd = |m: usize| {
        let a = m + r - 1;
        oh.div_ceil(m) * ow.div_ceil(m) * a * a
    };
    if wide_enough(F4_MIN_CHANNEL_RATIO) && winograd(4) * 10 <= direct * 3 {
        Algorithm::Winograd(Tile::F4)
    } else if r == 3 && wide_enough(F2_MIN_CHANNEL_RATIO) && winograd(2) * 20 <= direct * 9 {
        Algorithm::Winograd(Tile::F2)
    } else {
        Algorithm::Direct
    }
}

/// `cin · cout / (cin + cout)` from which F(4x4,r) pays (see [`auto`]).
const F4_MIN_CHANNEL_RATIO: usize = 8;
/// `cin · cout / (cin + cout)` from which F(2x2,3x3) pays where F(4x4)'s
/// tiles waste too much of the plane (see [`auto`]).
const F2_MIN_CHANNEL_RATIO: usize = 64;

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
