//! Winograd convolution F(m x m, r x r) for stride-1 [`Conv2d`] layers with
//! 3x3 and 5x5 kernels (F(2x2,3x3), F(4x4,3x3), F(2x2,5x5), F(4x4,5x5))
//! (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015).
//!
//! An output tile of `m x m` pixels is computed from an `a x a` input tile
//! (`a = m + r - 1`) with `a²` multiplications per channel pair instead of
//! `r² m²`: `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. Over channels, the element-wise
//! product becomes `a²` independent matrix products
//! `M[pos] = V[pos] · U[pos]` (tiles x cin times cin x cout), which run on the
//! gathered GEMM ([`crate::gather`]) like the direct kernel. So a layer is:
//! kernel transform (once per call) → input transform per band of tiles →
//! `a²` GEMMs → output transform.
//!
//! The two gradients reuse the same pieces:
//! - input gradient: a stride-1 convolution of the output gradient with the
//!   flipped, transposed kernel (the direct kernel does the same), so it is
//!   the forward algorithm with other operands;
//! - kernel gradient: transposing the forward map gives
//!   `dg = Gᵀ [(A dY Aᵀ) ⊙ (Bᵀ d B)] G`, summed over tiles: per position a
//!   product cin x tiles times tiles x cout, then one back-transform.
//!
//! Transforms work on 16 channels at a time (`[f32; 16]` lanes) and are
//! compiled once per instruction set ([`on_path`]); the GEMMs use the
//! gather micro-kernels. Work is spread over images and bands of tile rows
//! (forward) or fixed groups of images (backward, as the direct kernel, so
//! the kernel gradient does not depend on the thread count).

use std::sync::Mutex;

use crate::activation::{self, Activation};
use crate::bias;
use crate::conv2d::{record, take_failure, Conv2d};
use crate::error::KernelError;
use crate::gather::{self, Gather, Output, Path};
use crate::threads::{self, Chunks, SharedSlice};
use crate::workspace::lock;
use crate::workspace::Workspace;

/// Output tile size of a Winograd convolution; the kernel size (3x3 or
/// 5x5) comes from the layer. On 5x5 kernels, [`Tile::F2`] is F(2x2,5x5)
/// (36 products per tile instead of 100, with the points and input
/// transform of F(4x4,3x3), so about as accurate) and [`Tile::F4`] is
/// F(4x4,5x5) (64 instead of 400, with the points ±1/2 added).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tile {
    /// F(2x2, 3x3): 16 products per tile instead of 36 (2.25x fewer), with
    /// transform coefficients 0, ±1, ±1/2 — as accurate as direct.
    F2,
    /// F(4x4, 3x3): 36 products instead of 144 (4x fewer), with
    /// coefficients up to 8 and 1/24 — about ten times the rounding error.
    F4,
}

/// Channels per transform step: one AVX-512 register of f32.
const LANES: usize = 16;
type Lane = [f32; LANES];

/// Images per group in backward: each group sums its own kernel gradient.
const GROUP: usize = 4;

/// Bytes of transformed tiles (input and product) one band aims for: about
/// half the 1 MiB L2 of a Zen 4 core, so a band's `a²` GEMMs stay in cache.
const BAND_BYTES: usize = 512 * 1024;
/// Fewest tiles per band (see [`Grid::new`]).
const MIN_BAND_TILES: usize = 32;

/// The transform matrices of F(m x m, r x r) with `a = m + r - 1` points.
/// The kernel transforms use `g` and `gt`; `bt`, `at` and `a` are what
/// [`Variant`]'s formulas compute, and the unit tests compare the two.
#[cfg_attr(not(test), allow(dead_code))]
struct Transforms<const M: usize, const R: usize, const A: usize> {
    /// Input: `V = Bᵀ d B`.
    bt: [[f32; A]; A],
    /// Kernel: `U = G g Gᵀ`.
    g: [[f32; R]; A],
    /// Kernel-gradient back-transform: `dg = Gᵀ X G`.
    gt: [[f32; A]; R],
    /// Output: `Y = Aᵀ M A`.
    at: [[f32; A]; M],
    /// Output-gradient transform: `A dY Aᵀ`.
    a: [[f32; M]; A],
}

impl<const M: usize, const R: usize, const A: usize> Transforms<M, R, A> {
    const fn new(bt: [[f32; A]; A], g: [[f32; R]; A], at: [[f32; A]; M]) -> Self {
        Transforms {
            bt,
            g,
            gt: transpose(g),
            at,
            a: transpose(at),
        }
    }
}

/// One Winograd algorithm as a type: every kernel monomorphised for it sees
/// the transform matrices as constants, so the compiler drops the zero
/// coefficients, turns ±1 into additions and unrolls the tile loops (passed
/// as run-time values they cost a compare and a multiply each).
///
/// The three transforms applied to every tile are also written out as
/// formulas (`input`, `output`, `gradient`: `Bᵀ x`, `Aᵀ x`, `A x`) with
/// shared partial sums: a generic loop over the matrix entries is not
/// unrolled by the compiler and was slower than the products it feeds. The
/// unit tests check each formula against the matrix.
trait Variant<const M: usize, const R: usize, const A: usize> {
    const T: Transforms<M, R, A>;
    /// `Bᵀ x`.
    fn input(x: &[Lane; A]) -> [Lane; A];
    /// `Aᵀ x`.
    fn output(x: &[Lane; A]) -> [Lane; M];
    /// `A x`.
    fn gradient(x: &[Lane; M]) -> [Lane; A];
}

/// Lane by lane, `f` of the lanes' values at that index (a loop the
/// compiler turns into vector operations).
#[inline(always)]
fn lanewise<const K: usize, const N: usize>(x: &[Lane; K], f: impl Fn([f32; K]) -> [f32; N]) -> [Lane; N] {
    let mut out = [[0.0; LANES]; N];
    for l in 0..LANES {
        let values = f(std::array::from_fn(|k| x[k][l]));
        for (o, v) in out.iter_mut().zip(values) {
            o[l] = v;
        }
    }
    out
}

/// `Bᵀ x` for the six points 0, 1, -1, 2, -2, infinity ([`BT6`]).
#[inline(always)]
fn input6(x: &[Lane; 6]) -> [Lane; 6] {
    lanewise(x, |[d0, d1, d2, d3, d4, d5]| {
        let (d42, d31) = (d4 - d2, d3 - d1);
        [
            4.0 * d0 - 5.0 * d2 + d4,
            (d3 + d4) - 4.0 * (d1 + d2),
            (d4 - d3) + 4.0 * (d1 - d2),
            d42 + 2.0 * d31,
            d42 - 2.0 * d31,
            4.0 * d1 - 5.0 * d3 + d5,
        ]
    })
}

const fn transpose<const R: usize, const K: usize>(m: [[f32; K]; R]) -> [[f32; R]; K] {
    let mut t = [[0.0; R]; K];
    let mut i = 0;
    while i < R {
        let mut j = 0;
        while j < K {
            t[j][i] = m[i][j];
            j += 1;
        }
        i += 1;
    }
    t
}

/// F(2x2, 3x3): interpolation points 0, 1, -1 and infinity.
struct F2x3;
impl Variant<2, 3, 4> for F2x3 {
    const T: Transforms<2, 3, 4> = Transforms::new(
        [
            [1.0, 0.0, -1.0, 0.0],
            [0.0, 1.0, 1.0, 0.0],
            [0.0, -1.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, -1.0],
        ],
        [
            [1.0, 0.0, 0.0],
            [0.5, 0.5, 0.5],
            [0.5, -0.5, 0.5],
            [0.0, 0.0, 1.0],
        ],
        [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]],
    );
    #[inline(always)]
    fn input(x: &[Lane; 4]) -> [Lane; 4] {
        lanewise(x, |[d0, d1, d2, d3]| [d0 - d2, d1 + d2, d2 - d1, d1 - d3])
    }
    #[inline(always)]
    fn output(x: &[Lane; 4]) -> [Lane; 2] {
        lanewise(x, |[m0, m1, m2, m3]| [m0 + m1 + m2, m1 - m2 - m3])
    }
    #[inline(always)]
    fn gradient(x: &[Lane; 2]) -> [Lane; 4] {
        lanewise(x, |[g0, g1]| [g0, g0 + g1, g0 - g1, -g1])
    }
}

/// `Bᵀ` for the six points 0, 1, -1, 2, -2 and infinity: row `j` holds the
/// coefficients of `Π_{k≠j} (x - p_k)` (the last row: of `Π_k (x - p_k)`).
/// It depends on the points only, so F(4x4,3x3) and F(2x2,5x5) share it.
const BT6: [[f32; 6]; 6] = [
    [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
    [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
    [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
    [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
    [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
    [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
];

/// `G` row scales for the six points: `1 / Π_{k≠j} (p_j - p_k)`, i.e.
/// 1/4, -1/6, -1/6, 1/24, 1/24 (and 1 for infinity).
const G6_SCALE: [f32; 5] = [1.0 / 4.0, -1.0 / 6.0, -1.0 / 6.0, 1.0 / 24.0, 1.0 / 24.0];

/// F(4x4, 3x3): points 0, ±1, ±2 and infinity.
struct F4x3;
impl Variant<4, 3, 6> for F4x3 {
    const T: Transforms<4, 3, 6> = Transforms::new(
        BT6,
        [
            [G6_SCALE[0], 0.0, 0.0],
            [G6_SCALE[1], G6_SCALE[1], G6_SCALE[1]],
            [G6_SCALE[2], -G6_SCALE[2], G6_SCALE[2]],
            [G6_SCALE[3], 2.0 * G6_SCALE[3], 4.0 * G6_SCALE[3]],
            [G6_SCALE[4], -2.0 * G6_SCALE[4], 4.0 * G6_SCALE[4]],
            [0.0, 0.0, 1.0],
        ],
        [
            [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
            [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
            [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
            [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
        ],
    );
    #[inline(always)]
    fn input(x: &[Lane; 6]) -> [Lane; 6] {
        input6(x)
    }
    #[inline(always)]
    fn output(x: &[Lane; 6]) -> [Lane; 4] {
        lanewise(x, |[m0, m1, m2, m3, m4, m5]| {
            let (s12, d12, s34, d34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4);
            [
                m0 + s12 + s34,
                d12 + 2.0 * d34,
                s12 + 4.0 * s34,
                d12 + 8.0 * d34 + m5,
            ]
        })
    }
    #[inline(always)]
    fn gradient(x: &[Lane; 4]) -> [Lane; 6] {
        lanewise(x, |[g0, g1, g2, g3]| {
            let (even1, odd1) = (g0 + g2, g1 + g3);
            let (even2, odd2) = (g0 + 4.0 * g2, 2.0 * g1 + 8.0 * g3);
            [g0, even1 + odd1, even1 - odd1, even2 + odd2, even2 - odd2, g3]
        })
    }
}

/// F(2x2, 5x5): the same six points as F(4x4, 3x3); 36 products per tile
/// instead of 100.
struct F2x5;
impl Variant<2, 5, 6> for F2x5 {
    const T: Transforms<2, 5, 6> = Transforms::new(
        BT6,
        [
            [G6_SCALE[0], 0.0, 0.0, 0.0, 0.0],
            [G6_SCALE[1], G6_SCALE[1], G6_SCALE[1], G6_SCALE[1], G6_SCALE[1]],
            [G6_SCALE[2], -G6_SCALE[2], G6_SCALE[2], -G6_SCALE[2], G6_SCALE[2]],
            [
                G6_SCALE[3],
                2.0 * G6_SCALE[3],
                4.0 * G6_SCALE[3],
                8.0 * G6_SCALE[3],
                16.0 * G6_SCALE[3],
            ],
            [
                G6_SCALE[4],
                -2.0 * G6_SCALE[4],
                4.0 * G6_SCALE[4],
                -8.0 * G6_SCALE[4],
                16.0 * G6_SCALE[4],
            ],
            [0.0, 0.0, 0.0, 0.0, 1.0],
        ],
        [[1.0, 1.0, 1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, 2.0, -2.0, 1.0]],
    );
    #[inline(always)]
    fn input(x: &[Lane; 6]) -> [Lane; 6] {
        input6(x)
    }
    #[inline(always)]
    fn output(x: &[Lane; 6]) -> [Lane; 2] {
        lanewise(x, |[m0, m1, m2, m3, m4, m5]| {
            [m0 + (m1 + m2) + (m3 + m4), (m1 - m2) + 2.0 * (m3 - m4) + m5]
        })
    }
    #[inline(always)]
    fn gradient(x: &[Lane; 2]) -> [Lane; 6] {
        lanewise(x, |[g0, g1]| {
            [g0, g0 + g1, g0 - g1, g0 + 2.0 * g1, g0 - 2.0 * g1, g1]
        })
    }
}

/// `out = L d Lᵀ` for a `K x K` tile of lanes and an `R x K` matrix `L`,
/// by the matrix's entries: for the kernel transforms, once per call.
#[inline(always)]
fn two_sided<const R: usize, const K: usize>(
    left: &[[f32; K]; R],
    d: &[[Lane; K]; K],
    out: &mut [[Lane; R]; R],
) {
    two_sided_by(|x: &[Lane; K]| matrix_times(left, x), d, out);
}

/// `L x` for a vector of lanes.
#[inline(always)]
fn matrix_times<const R: usize, const K: usize>(left: &[[f32; K]; R], x: &[Lane; K]) -> [Lane; R] {
    let mut out = [[0.0; LANES]; R];
    for (o, row) in out.iter_mut().zip(left) {
        for (&w, v) in row.iter().zip(x) {
            if w != 0.0 {
                for l in 0..LANES {
                    o[l] += w * v[l];
                }
            }
        }
    }
    out
}

/// `out = L d Lᵀ` where `apply(x) = L x`: `L` applied to every column of
/// `d`, then to every row of the result.
#[inline(always)]
fn two_sided_by<const R: usize, const K: usize>(
    apply: impl Fn(&[Lane; K]) -> [Lane; R],
    d: &[[Lane; K]; K],
    out: &mut [[Lane; R]; R],
) {
    let mut tmp = [[[0.0; LANES]; K]; R];
    for b in 0..K {
        let column: [Lane; K] = std::array::from_fn(|a| d[a][b]);
        for (i, value) in apply(&column).iter().enumerate() {
            tmp[i][b] = *value;
        }
    }
    for (row, o) in tmp.iter().zip(out.iter_mut()) {
        *o = apply(row);
    }
}

/// F(4x4, 5x5): eight points 0, ±1, ±2, ±1/2 and infinity; 64 products
/// per tile instead of 400. `Bᵀ` row `j` holds the coefficients of
/// `Π_{k≠j} (x - p_k)` (the last row: of `Π_k (x - p_k)`), `G` row `j` is
/// `(1, p_j, ..., p_j⁴) / Π_{k≠j} (p_j - p_k)`.
struct F4x5;
impl Variant<4, 5, 8> for F4x5 {
    const T: Transforms<4, 5, 8> = Transforms::new(
        [
            [-1.0, 0.0, 21.0 / 4.0, 0.0, -21.0 / 4.0, 0.0, 1.0, 0.0],
            [0.0, 1.0, 1.0, -17.0 / 4.0, -17.0 / 4.0, 1.0, 1.0, 0.0],
            [0.0, -1.0, 1.0, 17.0 / 4.0, -17.0 / 4.0, -1.0, 1.0, 0.0],
            [0.0, 1.0 / 2.0, 1.0 / 4.0, -5.0 / 2.0, -5.0 / 4.0, 2.0, 1.0, 0.0],
            [0.0, -1.0 / 2.0, 1.0 / 4.0, 5.0 / 2.0, -5.0 / 4.0, -2.0, 1.0, 0.0],
            [0.0, 2.0, 4.0, -5.0 / 2.0, -5.0, 1.0 / 2.0, 1.0, 0.0],
            [0.0, -2.0, 4.0, 5.0 / 2.0, -5.0, -1.0 / 2.0, 1.0, 0.0],
            [0.0, -1.0, 0.0, 21.0 / 4.0, 0.0, -21.0 / 4.0, 0.0, 1.0],
        ],
        [
            [-1.0, 0.0, 0.0, 0.0, 0.0],
            [-2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0, -2.0 / 9.0],
            [-2.0 / 9.0, 2.0 / 9.0, -2.0 / 9.0, 2.0 / 9.0, -2.0 / 9.0],
            [1.0 / 90.0, 1.0 / 45.0, 2.0 / 45.0, 4.0 / 45.0, 8.0 / 45.0],
            [1.0 / 90.0, -1.0 / 45.0, 2.0 / 45.0, -4.0 / 45.0, 8.0 / 45.0],
            [32.0 / 45.0, 16.0 / 45.0, 8.0 / 45.0, 4.0 / 45.0, 2.0 / 45.0],
            [32.0 / 45.0, -16.0 / 45.0, 8.0 / 45.0, -4.0 / 45.0, 2.0 / 45.0],
            [0.0, 0.0, 0.0, 0.0, 1.0],
        ],
        [
            [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
            [0.0, 1.0, -1.0, 2.0, -2.0, 1.0 / 2.0, -1.0 / 2.0, 0.0],
            [0.0, 1.0, 1.0, 4.0, 4.0, 1.0 / 4.0, 1.0 / 4.0, 0.0],
            [0.0, 1.0, -1.0, 8.0, -8.0, 1.0 / 8.0, -1.0 / 8.0, 1.0],
        ],
    );
    #[inline(always)]
    fn input(x: &[Lane; 8]) -> [Lane; 8] {
        lanewise(x, |[d0, d1, d2, d3, d4, d5, d6, d7]| {
            let (e1, o1) = (d2 + d6 - 4.25 * d4, d1 + d5 - 4.25 * d3);
            let (e2, o2) = (0.25 * d2 - 1.25 * d4 + d6, 0.5 * d1 - 2.5 * d3 + 2.0 * d5);
            let (e3, o3) = (4.0 * d2 - 5.0 * d4 + d6, 2.0 * d1 - 2.5 * d3 + 0.5 * d5);
            [
                (d6 - d0) + 5.25 * (d2 - d4),
                e1 + o1,
                e1 - o1,
                e2 + o2,
                e2 - o2,
                e3 + o3,
                e3 - o3,
                (d7 - d1) + 5.25 * (d3 - d5),
            ]
        })
    }
    #[inline(always)]
    fn output(x: &[Lane; 8]) -> [Lane; 4] {
        lanewise(x, |[m0, m1, m2, m3, m4, m5, m6, m7]| {
            let (s12, d12, s34, d34, s56, d56) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4, m5 + m6, m5 - m6);
            [
                m0 + s12 + s34 + s56,
                d12 + 2.0 * d34 + 0.5 * d56,
                s12 + 4.0 * s34 + 0.25 * s56,
                d12 + 8.0 * d34 + 0.125 * d56 + m7,
            ]
        })
    }
    #[inline(always)]
    fn gradient(x: &[Lane; 4]) -> [Lane; 8] {
        lanewise(x, |[g0, g1, g2, g3]| {
            let (e1, o1) = (g0 + g2, g1 + g3);
            let (e2, o2) = (g0 + 4.0 * g2, 2.0 * g1 + 8.0 * g3);
            let (e3, o3) = (g0 + 0.25 * g2, 0.5 * g1 + 0.125 * g3);
            [g0, e1 + o1, e1 - o1, e2 + o2, e2 - o2, e3 + o3, e3 - o3, g3]
        })
    }
}

/// Runs `body` for a channel block of `n` lanes; a full block gets the
/// constant [`LANES`], so its loads and stores compile to whole vectors
/// (with `n` unknown, each became a call to `memcpy`).
#[inline(always)]
fn by_width(n: usize, mut body: impl FnMut(usize)) {
    if n == LANES {
        body(LANES)
    } else {
        body(n)
    }
}

/// `n` floats from `src` into a lane (the rest left as they are).
#[inline(always)]
fn read(src: &[f32], n: usize, lane: &mut Lane) {
    if n == LANES {
        *lane = src[..LANES].try_into().expect("16 floats");
    } else {
        lane[..n].copy_from_slice(&src[..n]);
    }
}

/// The first `n` floats of a lane into `dst`.
#[inline(always)]
fn write(dst: &mut [f32], n: usize, lane: &Lane) {
    if n == LANES {
        dst[..LANES].copy_from_slice(lane);
    } else {
        dst[..n].copy_from_slice(&lane[..n]);
    }
}

/// Runs `f` compiled for `path`, so the lane loops of the transforms inlined
/// into it use that instruction set's vectors.
#[inline(always)]
fn on_path<R>(path: Path, f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        match path {
            // SAFETY: `path` comes from `gather::active`, which only
            // returns an instruction set this CPU supports.
            Path::Avx512 => return unsafe { avx512(f) },
            // SAFETY: as above.
            Path::Avx2 => return unsafe { avx2(f) },
            Path::Portable => {}
        }
    }
    f()
}

/// NHWC images whose pixels lie `stride` floats apart (`channels` used of
/// each) and images `image_stride` floats apart.
#[derive(Clone, Copy)]
struct Images<'a> {
    data: &'a [f32],
    h: usize,
    w: usize,
    channels: usize,
    stride: usize,
    image_stride: usize,
}

impl Images<'_> {
    /// Channels `c0..c0 + n` of the `size x size` pixels at (`y0`, `x0`) of
    /// image `n` into `tile`, zeros outside the image (the padding). A
    /// window inside the image (most of them) skips the per-pixel test.
    #[inline(always)]
    fn load_window<const S: usize>(
        &self,
        image: usize,
        (y0, x0): (isize, isize),
        c0: usize,
        n: usize,
        tile: &mut [[Lane; S]; S],
    ) {
        let inside = y0 >= 0 && x0 >= 0 && y0 as usize + S <= self.h && x0 as usize + S <= self.w;
        if inside {
            let origin = image * self.image_stride + (y0 as usize * self.w + x0 as usize) * self.stride + c0;
            for (a, row) in tile.iter_mut().enumerate() {
                let start = origin + a * self.w * self.stride;
                for (b, lane) in row.iter_mut().enumerate() {
                    read(&self.data[start + b * self.stride..], n, lane);
                }
            }
        } else {
            for (a, row) in tile.iter_mut().enumerate() {
                for (b, lane) in row.iter_mut().enumerate() {
                    *lane = [0.0; LANES];
                    self.load(image, (y0 + a as isize, x0 + b as isize), c0, n, lane);
                }
            }
        }
    }

    /// Channels `c0..c0 + n` of pixel (`y`, `x`) of image `n` into `lane`;
    /// zeros outside the image (the padding).
    #[inline(always)]
    fn load(&self, image: usize, (y, x): (isize, isize), c0: usize, n: usize, lane: &mut Lane) {
        if y >= 0 && x >= 0 && (y as usize) < self.h && (x as usize) < self.w {
            let at = image * self.image_stride + (y as usize * self.w + x as usize) * self.stride + c0;
            read(&self.data[at..], n, lane);
        }
    }
}

/// Tiles over the output planes of a batch, numbered image by image, row by
/// row, and cut into bands: whole tile rows of one image, or whole images
/// when one image has few tiles. A band's output pixels are contiguous.
#[derive(Clone, Copy)]
struct Grid {
    m: usize,
    out_h: usize,
    out_w: usize,
    tiles_w: usize,
    tiles_h: usize,
    images: usize,
    /// Tile rows per band (when a band is part of one image).
    band_rows: usize,
    /// Images per band (1 when a band is part of one image).
    band_images: usize,
}

impl Grid {
    /// `channels`: input plus output channels, which size a tile's scratch.
    fn new(m: usize, a: usize, images: usize, (out_h, out_w): (usize, usize), channels: usize) -> Self {
        let tiles_w = out_w.div_ceil(m);
        let tiles_h = out_h.div_ceil(m);
        let per_tile = a * a * channels * std::mem::size_of::<f32>();
        // At least MIN_BAND_TILES: each band reads the whole transformed
        // kernel once per position, which few tiles would not amortise.
        let band_tiles = (BAND_BYTES / per_tile.max(1)).max(MIN_BAND_TILES);
        let per_image = tiles_w * tiles_h;
        let (band_rows, band_images) = if per_image >= band_tiles {
            ((band_tiles / tiles_w).max(1), 1)
        } else {
            (tiles_h, (band_tiles / per_image).clamp(1, images))
        };
        Grid {
            m,
            out_h,
            out_w,
            tiles_w,
            tiles_h,
            images,
            band_rows,
            band_images,
        }
    }

    fn per_image(&self) -> usize {
        self.tiles_w * self.tiles_h
    }

    fn bands(&self) -> usize {
        if self.band_images > 1 {
            self.images.div_ceil(self.band_images)
        } else {
            self.images * self.tiles_h.div_ceil(self.band_rows)
        }
    }

    /// The most tiles in a band.
    fn band_tiles(&self) -> usize {
        if self.band_images > 1 {
            self.band_images * self.per_image()
        } else {
            self.band_rows.min(self.tiles_h) * self.tiles_w
        }
    }

    /// Tiles of band `b` (numbered over the batch).
    fn band(&self, b: usize) -> std::ops::Range<usize> {
        if self.band_images > 1 {
            let first = b * self.band_images;
            first * self.per_image()..((first + self.band_images).min(self.images)) * self.per_image()
        } else {
            let per = self.tiles_h.div_ceil(self.band_rows);
            let (n, part) = (b / per, b % per);
            let rows = part * self.band_rows..((part + 1) * self.band_rows).min(self.tiles_h);
            n * self.per_image() + rows.start * self.tiles_w..n * self.per_image() + rows.end * self.tiles_w
        }
    }

    /// Image, tile row and tile column of tile `t`.
    fn locate(&self, t: usize) -> (usize, usize, usize) {
        let (n, local) = (t / self.per_image(), t % self.per_image());
        (n, local / self.tiles_w, local % self.tiles_w)
    }

    /// Output pixels (numbered over the batch) of the tiles `tiles`.
    fn pixels(&self, tiles: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let pixel = |t: usize, end: bool| {
            let (n, ty, _) = self.locate(t);
            let row = if end {
                ((ty + 1) * self.m).min(self.out_h)
            } else {
                ty * self.m
            };
            (n * self.out_h + row) * self.out_w
        };
        pixel(tiles.start, false)..pixel(tiles.end - 1, true)
    }
}

/// The input tiles of `tiles` (origins `m` apart, shifted by the padding
/// `top`/`left`) into `v[pos][tile][c]`, `stride` tiles per position.
#[inline(always)]
fn input_tiles<const M: usize, const R: usize, const A: usize, V: Variant<M, R, A>>(
    images: &Images,
    (top, left): (usize, usize),
    grid: &Grid,
    tiles: std::ops::Range<usize>,
    stride: usize,
    v: &mut [f32],
) {
    let c = images.channels;
    let mut d = [[[0.0; LANES]; A]; A];
    let mut out = [[[0.0; LANES]; A]; A];
    for (j, tile) in tiles.enumerate() {
        let (n, ty, tx) = grid.locate(tile);
        let y0 = (ty * M) as isize - top as isize;
        let x0 = (tx * M) as isize - left as isize;
        for c0 in (0..c).step_by(LANES) {
            by_width(
                LANES.min(c - c0),
                #[inline(always)]
                |n_ch| {
                    images.load_window(n, (y0, x0), c0, n_ch, &mut d);
                    two_sided_by(V::input, &d, &mut out);
                    for (a, row) in out.iter().enumerate() {
                        for (b, lane) in row.iter().enumerate() {
                            write(&mut v[((a * A + b) * stride + j) * c + c0..], n_ch, lane);
                        }
                    }
                },
            );
        }
    }
}

/// `A dY Aᵀ` of the output-gradient tiles `tiles` into `d[pos][tile][f]`;
/// pixels beyond the plane count as zero.
#[inline(always)]
fn gradient_tiles<const M: usize, const R: usize, const A: usize, V: Variant<M, R, A>>(
    dz: &Images,
    grid: &Grid,
    tiles: std::ops::Range<usize>,
    stride: usize,
    d: &mut [f32],
) {
    let f = dz.channels;
    let mut g = [[[0.0; LANES]; M]; M];
    let mut out = [[[0.0; LANES]; A]; A];
    for (j, tile) in tiles.enumerate() {
        let (n, ty, tx) = grid.locate(tile);
        let (y0, x0) = ((ty * M) as isize, (tx * M) as isize);
        for f0 in (0..f).step_by(LANES) {
            by_width(
                LANES.min(f - f0),
                #[inline(always)]
                |n_ch| {
                    dz.load_window(n, (y0, x0), f0, n_ch, &mut g);
                    two_sided_by(V::gradient, &g, &mut out);
                    for (a, row) in out.iter().enumerate() {
                        for (b, lane) in row.iter().enumerate() {
                            write(&mut d[((a * A + b) * stride + j) * f + f0..], n_ch, lane);
                        }
                    }
                },
            );
        }
    }
}

/// How transformed products become output pixels.
struct Sink<'a> {
    /// The band's output pixels; pixel `p` of the band at `p * ldo`.
    out: &'a mut [f32],
    ldo: usize,
    bias: Option<&'a [f32]>,
    /// Same layout as `out`.
    residual: Option<&'a [f32]>,
    accumulate: bool,
}

/// `Aᵀ M A` of the products `m[pos][tile][f]` of `tiles`, written to the
/// pixels of each tile that lie inside the plane.
#[inline(always)]
fn output_tiles<const M: usize, const R: usize, const A: usize, V: Variant<M, R, A>>(
    m: &[f32],
    f: usize,
    grid: &Grid,
    tiles: std::ops::Range<usize>,
    stride: usize,
    sink: &mut Sink,
) {
    let base = grid.pixels(&tiles).start;
    let mut p = [[[0.0; LANES]; A]; A];
    let mut y = [[[0.0; LANES]; M]; M];
    for (j, tile) in tiles.enumerate() {
        let (n, ty, tx) = grid.locate(tile);
        let (oy0, ox0) = (ty * M, tx * M);
        let valid_h = M.min(grid.out_h - oy0);
        let valid_w = M.min(grid.out_w - ox0);
        for f0 in (0..f).step_by(LANES) {
            by_width(
                LANES.min(f - f0),
                #[inline(always)]
                |n_ch| {
                    for (a, row) in p.iter_mut().enumerate() {
                        for (b, lane) in row.iter_mut().enumerate() {
                            read(&m[((a * A + b) * stride + j) * f + f0..], n_ch, lane);
                        }
                    }
                    two_sided_by(V::output, &p, &mut y);
                    let mut bias = [0.0; LANES];
                    if let Some(b) = sink.bias {
                        read(&b[f0..], n_ch, &mut bias);
                    }
                    for (i, row) in y.iter().enumerate().take(valid_h) {
                        for (k, lane) in row.iter().enumerate().take(valid_w) {
                            let pixel = (n * grid.out_h + oy0 + i) * grid.out_w + ox0 + k - base;
                            let at = pixel * sink.ldo + f0;
                            let mut value = *lane;
                            for l in 0..LANES {
                                value[l] += bias[l];
                            }
                            let mut extra = [0.0; LANES];
                            if let Some(r) = sink.residual {
                                read(&r[at..], n_ch, &mut extra);
                            }
                            if sink.accumulate {
                                let mut old = [0.0; LANES];
                                read(&sink.out[at..], n_ch, &mut old);
                                for l in 0..LANES {
                                    extra[l] += old[l];
                                }
                            }
                            for l in 0..LANES {
                                value[l] += extra[l];
                            }
                            write(&mut sink.out[at..], n_ch, &value);
                        }
                    }
                },
            );
        }
    }
}

/// `U = G g Gᵀ` of a kernel `[r][r][c][f]` into `u[pos][c][f]`.
#[inline(always)]
fn kernel_transform<const M: usize, const R: usize, const A: usize>(
    t: &Transforms<M, R, A>,
    kernel: &[f32],
    c: usize,
    f: usize,
    u: &mut [f32],
) {
    let mut g = [[[0.0; LANES]; R]; R];
    let mut out = [[[0.0; LANES]; A]; A];
    for ch in 0..c {
        for f0 in (0..f).step_by(LANES) {
            by_width(
                LANES.min(f - f0),
                #[inline(always)]
                |n| {
                    for (ky, row) in g.iter_mut().enumerate() {
                        for (kx, lane) in row.iter_mut().enumerate() {
                            read(&kernel[((ky * R + kx) * c + ch) * f + f0..], n, lane);
                        }
                    }
                    two_sided(&t.g, &g, &mut out);
                    for (a, row) in out.iter().enumerate() {
                        for (b, lane) in row.iter().enumerate() {
                            write(&mut u[((a * A + b) * c + ch) * f + f0..], n, lane);
                        }
                    }
                },
            );
        }
    }
}

/// `dkernel += Gᵀ X G` for the summed products `x[pos][c][f]`.
#[inline(always)]
fn kernel_gradient<const M: usize, const R: usize, const A: usize>(
    t: &Transforms<M, R, A>,
    x: &[f32],
    c: usize,
    f: usize,
    dkernel: &mut [f32],
) {
    let mut p = [[[0.0; LANES]; A]; A];
    let mut dg = [[[0.0; LANES]; R]; R];
    for ch in 0..c {
        for f0 in (0..f).step_by(LANES) {
            by_width(
                LANES.min(f - f0),
                #[inline(always)]
                |n| {
                    for (a, row) in p.iter_mut().enumerate() {
                        for (b, lane) in row.iter_mut().enumerate() {
                            read(&x[((a * A + b) * c + ch) * f + f0..], n, lane);
                        }
                    }
                    two_sided(&t.gt, &p, &mut dg);
                    for (ky, row) in dg.iter().enumerate() {
                        for (kx, lane) in row.iter().enumerate() {
                            let at = ((ky * R + kx) * c + ch) * f + f0;
                            for (d, &v) in dkernel[at..at + n].iter_mut().zip(lane) {
                                *d += v;
                            }
                        }
                    }
                },
            );
        }
    }
}

/// `m[pos] = v[pos] · u[pos]` for `count` tiles: `a²` products of
/// `count x c` by `c x f`.
fn tile_products(
    positions: usize,
    v: &[f32],
    u: &[f32],
    m: &mut [f32],
    (stride, count): (usize, usize),
    (c, f): (usize, usize),
    tile_rows: &[usize],
) -> Result<(), KernelError> {
    for pos in 0..positions {
        gather::run(
            &Gather {
                x: &v[pos * stride * c..(pos + 1) * stride * c],
                row_off: &tile_rows[..count],
                k_off: &[0],
                k_run: c,
                b: &u[pos * c * f..(pos + 1) * c * f],
                ldb: f,
                cols: f,
            },
            &mut Output {
                out: &mut m[pos * stride * f..(pos + 1) * stride * f],
                ldo: f,
                accumulate: false,
                bias: None,
                addend: None,
            },
        )?;
    }
    Ok(())
}

/// `0, step, 2 step, ...` into `out`.
fn strided(out: &mut [usize], step: usize) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = i * step;
    }
}

/// The error for a tile and kernel size without an implementation (the
/// caller's [`crate::conv_algorithm::winograd_applies`] rules them out).
fn unsupported(tile: Tile, conv: &Conv2d) -> KernelError {
    let w = &conv.window;
    KernelError::InvalidArgument {
        kernel: "conv2d (winograd)",
        message: format!(
            "no Winograd {tile:?} for a {}x{} kernel at stride {}x{}; implemented: F2 and F4 for 3x3 \
             and 5x5, stride 1",
            w.kernel_h, w.kernel_w, w.stride_h, w.stride_w
        ),
    }
}

/// Forward of [`Conv2d::forward_into`] by Winograd; the caller has checked
/// every buffer and that [`crate::conv_algorithm::winograd_applies`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn forward(
    tile: Tile,
    conv: &Conv2d,
    batch: usize,
    x: &[f32],
    kernel: &[f32],
    bias: Option<&[f32]>,
    residual: Option<&[f32]>,
    activation: Activation,
    y: &mut [f32],
    ldy: usize,
    ws: &mut Workspace,
) -> Result<(), KernelError> {
    let args = ForwardArgs {
        conv,
        batch,
        x,
        kernel,
        bias,
        residual,
        activation,
        ldy,
    };
    match (tile, conv.window.kernel_h) {
        (Tile::F2, 3) => forward_with::<2, 3, 4, F2x3>(&args, y, ws),
        (Tile::F4, 3) => forward_with::<4, 3, 6, F4x3>(&args, y, ws),
        (Tile::F2, 5) => forward_with::<2, 5, 6, F2x5>(&args, y, ws),
        (Tile::F4, 5) => forward_with::<4, 5, 8, F4x5>(&args, y, ws),
        _ => Err(unsupported(tile, conv)),
    }
}

struct ForwardArgs<'a> {
    conv: &'a Conv2d,
    batch: usize,
    x: &'a [f32],
    kernel: &'a [f32],
    bias: Option<&'a [f32]>,
    residual: Option<&'a [f32]>,
    activation: Activation,
    ldy: usize,
}

fn forward_with<const M: usize, const R: usize, const A: usize, V: Variant<M, R, A>>(
    args: &ForwardArgs,
    y: &mut [f32],
    ws: &mut Workspace,
) -> Result<(), KernelError> {
    let t = &V::T;
    let conv = args.conv;
    let (c, f, ldy) = (conv.in_channels, conv.filters, args.ldy);
    let w = &conv.window;
    let (oh, ow) = (conv.out_h(), conv.out_w());
    let grid = Grid::new(M, A, args.batch, (oh, ow), c + f);
    let bands = grid.bands();
    let band_tiles = grid.band_tiles();
    let path = gather::active();
    let (shared, slots) = ws.split(threads::current().min(bands));
    let ([u], [tile_rows]) = shared.parts([A * A * c * f], [band_tiles]);
    strided(tile_rows, c);
    on_path(
        path,
        #[inline(always)]
        || kernel_transform(t, args.kernel, c, f, u),
    );
    let (u, tile_rows) = (&*u, &*tile_rows);
    let (v_len, m_len) = (A * A * band_tiles * c, A * A * band_tiles * f);
    for slot in slots {
        lock(slot).parts([v_len, m_len], []);
    }
    let images = Images {
        data: args.x,
        h: w.in_h,
        w: w.in_w,
        channels: c,
        stride: c,
        image_stride: conv.in_len(),
    };
    let pads = (w.pad_top(), w.pad_left());
    let outputs = SharedSlice::new(y);
    let failure = Mutex::new(None);
    threads::run_on(slots.len(), bands, &|band, slot| {
        let tiles = grid.band(band);
        let count = tiles.len();
        let mut scratch = lock(&slots[slot]);
        let ([v, m], []) = scratch.parts([v_len, m_len], []);
        on_path(
            path,
            #[inline(always)]
            || input_tiles::<M, R, A, V>(&images, pads, &grid, tiles.clone(), band_tiles, v),
        );
        let result = tile_products(A * A, v, u, m, (band_tiles, count), (c, f), tile_rows).and_then(|()| {
            let pixels = grid.pixels(&tiles);
            let span = pixels.start * ldy..(pixels.end - 1) * ldy + f;
            // SAFETY: bands cover disjoint output pixels, each band one task.
            let out = unsafe { outputs.range(span.clone()) };
            let mut sink = Sink {
                out,
                ldo: ldy,
                bias: args.bias,
                residual: args.residual.map(|r| &r[span]),
                accumulate: false,
            };
            on_path(
                path,
                #[inline(always)]
                || output_tiles::<M, R, A, V>(m, f, &grid, tiles.clone(), band_tiles, &mut sink),
            );
            activation::forward_rows(args.activation, sink.out, f, ldy)
        });
        record(&failure, result);
    });
    take_failure(failure)
}

/// Backward of [`Conv2d::backward_from`] by Winograd; the caller has checked
/// every buffer and that [`crate::conv_algorithm::winograd_applies`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    tile: Tile,
    conv: &Conv2d,
    batch: usize,
    x: &[f32],
    kernel: &[f32],
    y: &[f32],
    dy: &mut [f32],
    ldy: usize,
    dkernel: Option<&mut [f32]>,
    dbias: Option<&mut [f32]>,
    dx: Option<&mut [f32]>,
    ws: &mut Workspace,
) -> Result<(), KernelError> {
    let args = BackwardArgs {
        conv,
        batch,
        x,
        kernel,
        y,
        ldy,
    };
    match (tile, conv.window.kernel_h) {
        (Tile::F2, 3) => backward_with::<2, 3, 4, F2x3>(&args, dy, dkernel, dbias, dx, ws),
        (Tile::F4, 3) => backward_with::<4, 3, 6, F4x3>(&args, dy, dkernel, dbias, dx, ws),
        (Tile::F2, 5) => backward_with::<2, 5, 6, F2x5>(&args, dy, dkernel, dbias, dx, ws),
        (Tile::F4, 5) => backward_with::<4, 5, 8, F4x5>(&args, dy, dkernel, dbias, dx, ws),
        _ => Err(unsupported(tile, conv)),
    }
}

struct BackwardArgs<'a> {
    conv: &'a Conv2d,
    batch: usize,
    x: &'a [f32],
    kernel: &'a [f32],
    y: &'a [f32],
    ldy: usize,
}

fn backward_with<const M: usize, const R: usize, const A: usize, V: Variant<M, R, A>>(
    args: &BackwardArgs,
    dy: &mut [f32],
    dkernel: Option<&mut [f32]>,
    dbias: Option<&mut [f32]>,
    dx: Option<&mut [f32]>,
    ws: &mut Workspace,
) -> Result<(), KernelError> {
    let t = &V::T;
    let conv = args.conv;
    let (c, f, ldy, batch) = (conv.in_channels, conv.filters, args.ldy, args.batch);
    let w = &conv.window;
    let (oh, ow) = (conv.out_h(), conv.out_w());
    let has_dx = dx.is_some();
    let has_dkernel = dkernel.is_some();
    // Kernel gradient: tiles over the output; input gradient: over the
    // input. Bands stay inside a group of images.
    let out_grid = Grid::new(M, A, GROUP.min(batch), (oh, ow), c + f);
    let in_grid = Grid::new(M, A, GROUP.min(batch), (w.in_h, w.in_w), c + f);
    let band_tiles = out_grid.band_tiles().max(in_grid.band_tiles());
    let path = gather::active();
    let groups = batch.div_ceil(GROUP);
    let positions = A * A;
    // Partial kernel (in the transformed domain) and bias gradients per group.
    let partial_len = positions * c * f + f;
    let (shared, slots) = ws.split(threads::current().min(groups));
    let ([flipped, u_flipped, partials], [rows_c, rows_f, channels]) = shared.parts(
        [
            if has_dx { R * R * c * f } else { 0 },
            if has_dx { positions * c * f } else { 0 },
            groups * partial_len,
        ],
        [band_tiles, band_tiles, c],
    );
    strided(rows_c, c);
    strided(rows_f, f);
    strided(channels, 1);
    if has_dx {
        // flipped[ky][kx][f][c] = kernel[r-1-ky][r-1-kx][c][f]
        for tap in 0..R * R {
            let source = R * R - 1 - tap;
            for ch in 0..c {
                for o in 0..f {
                    flipped[(tap * f + o) * c + ch] = args.kernel[(source * c + ch) * f + o];
                }
            }
        }
        on_path(
            path,
            #[inline(always)]
            || kernel_transform(t, flipped, f, c, u_flipped),
        );
    }
    let (u_flipped, rows_c, rows_f, channels) = (&*u_flipped, &*rows_c, &*rows_f, &*channels);
    partials.fill(0.0);
    let buffer = positions * band_tiles * c.max(f);
    for slot in slots {
        lock(slot).parts([buffer, buffer], []);
    }
    let pixels = oh * ow;
    let image_stride = pixels * ldy;
    let image_span = (pixels - 1) * ldy + f;
    let grads = SharedSlice::new(dy);
    let mut no_dx: [f32; 0] = [];
    let input_grads = Chunks::new(dx.unwrap_or(&mut no_dx), GROUP * conv.in_len());
    let partial_chunks = Chunks::new(&mut *partials, partial_len);
    let failure = Mutex::new(None);
    let (pt, pl) = (w.pad_top(), w.pad_left());
    threads::run_on(slots.len(), groups, &|group, slot| {
        let mut scratch = lock(&slots[slot]);
        let ([v, m], []) = scratch.parts([buffer, buffer], []);
        let first = group * GROUP;
        let images = GROUP.min(batch - first);
        let group_span = first * image_stride..(first + images - 1) * image_stride + image_span;
        // SAFETY: each group index runs once and groups cover disjoint images.
        let (dz_group, dx_group, partial) = unsafe {
            (
                grads.range(group_span),
                input_grads.get(group),
                partial_chunks.get(group),
            )
        };
        let (dk, db) = partial.split_at_mut(positions * c * f);
        let mut step = || -> Result<(), KernelError> {
            for k in 0..images {
                let dz = &mut dz_group[k * image_stride..k * image_stride + image_span];
                let n = first + k;
                let out = &args.y[n * image_stride..n * image_stride + image_span];
                activation::backward_rows(conv.activation, out, dz, f, ldy)?;
                bias::accumulate_strided(dz, db, ldy);
            }
            let dz_group = &*dz_group;
            let inputs = Images {
                data: &args.x[first * conv.in_len()..(first + images) * conv.in_len()],
                h: w.in_h,
                w: w.in_w,
                channels: c,
                stride: c,
                image_stride: conv.in_len(),
            };
            let grads = Images {
                data: dz_group,
                h: oh,
                w: ow,
                channels: f,
                stride: ldy,
                image_stride,
            };
            // Kernel gradient: X[pos] += V[pos]ᵀ · (A dY Aᵀ)[pos]; none for
            // a frozen layer.
            let out_grid = Grid { images, ..out_grid };
            let kernel_bands = if has_dkernel { out_grid.bands() } else { 0 };
            for band in 0..kernel_bands {
                let tiles = out_grid.band(band);
                let count = tiles.len();
                on_path(
                    path,
                    #[inline(always)]
                    || {
                        input_tiles::<M, R, A, V>(&inputs, (pt, pl), &out_grid, tiles.clone(), band_tiles, v);
                        gradient_tiles::<M, R, A, V>(&grads, &out_grid, tiles.clone(), band_tiles, m);
                    },
                );
                for pos in 0..positions {
                    gather::run(
                        &Gather {
                            x: &v[pos * band_tiles * c..(pos + 1) * band_tiles * c],
                            row_off: channels,
                            k_off: &rows_c[..count],
                            k_run: 1,
                            b: &m[pos * band_tiles * f..(pos + 1) * band_tiles * f],
                            ldb: f,
                            cols: f,
                        },
                        &mut Output {
                            out: &mut dk[pos * c * f..(pos + 1) * c * f],
                            ldo: f,
                            accumulate: true,
                            bias: None,
                            addend: None,
                        },
                    )?;
                }
            }
            if !has_dx {
                return Ok(());
            }
            // Input gradient: the output gradient convolved with the flipped
            // kernel, padded by r - 1 - pad on each side.
            let in_grid = Grid { images, ..in_grid };
            for band in 0..in_grid.bands() {
                let tiles = in_grid.band(band);
                let count = tiles.len();
                on_path(
                    path,
                    #[inline(always)]
                    || {
                        input_tiles::<M, R, A, V>(
                            &grads,
                            (R - 1 - pt, R - 1 - pl),
                            &in_grid,
                            tiles.clone(),
                            band_tiles,
                            v,
                        )
                    },
                );
                tile_products(positions, v, u_flipped, m, (band_tiles, count), (f, c), rows_f)?;
                let pixels = in_grid.pixels(&tiles);
                let mut sink = Sink {
                    out: &mut dx_group[pixels.start * c..pixels.end * c],
                    ldo: c,
                    bias: None,
                    residual: None,
                    accumulate: true,
                };
                on_path(
                    path,
                    #[inline(always)]
                    || output_tiles::<M, R, A, V>(m, c, &in_grid, tiles.clone(), band_tiles, &mut sink),
                );
            }
            Ok(())
        };
        record(&failure, step());
    });
    take_failure(failure)?;
    // Sum the groups in order (independent of the thread count), then
    // back-transform once.
    let (total, rest) = partials.split_at_mut(partial_len);
    for partial in rest.chunks_exact(partial_len) {
        total.iter_mut().zip(partial).for_each(|(d, s)| *d += s);
    }
    let (dk, db) = total.split_at(positions * c * f);
    if let Some(dkernel) = dkernel {
        on_path(
            path,
            #[inline(always)]
            || kernel_gradient(t, dk, c, f, dkernel),
        );
    }
    if let Some(dbias) = dbias {
        dbias.iter_mut().zip(db).for_each(|(d, s)| *d += s);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each lane of a unit vector through `f`, compared with the matrix.
    fn check<const R: usize, const K: usize>(
        name: &str,
        f: impl Fn(&[Lane; K]) -> [Lane; R],
        matrix: &[[f32; K]; R],
    ) {
        for k in 0..K {
            let mut x = [[0.0; LANES]; K];
            for (l, v) in x[k].iter_mut().enumerate() {
                *v = 1.0 + l as f32;
            }
            let y = f(&x);
            for (r, row) in y.iter().enumerate() {
                for (l, &value) in row.iter().enumerate() {
                    assert_eq!(
                        value,
                        matrix[r][k] * (1.0 + l as f32),
                        "{name}: entry ({r}, {k}), lane {l}"
                    );
                }
            }
        }
    }

    fn check_variant<const M: usize, const R: usize, const A: usize, V: Variant<M, R, A>>(name: &str) {
        check(&format!("{name} input"), V::input, &V::T.bt);
        check(&format!("{name} output"), V::output, &V::T.at);
        check(&format!("{name} gradient"), V::gradient, &V::T.a);
    }

    #[test]
    fn transform_formulas_are_the_matrices() {
        check_variant::<2, 3, 4, F2x3>("F(2x2,3x3)");
        check_variant::<4, 3, 6, F4x3>("F(4x4,3x3)");
        check_variant::<2, 5, 6, F2x5>("F(2x2,5x5)");
        check_variant::<4, 5, 8, F4x5>("F(4x4,5x5)");
    }

    /// `G` and `Gᵀ` against exact rationals, and the 1-D algorithm against a
    /// correlation in f64: `Aᵀ[(G g) ⊙ (Bᵀ d)] = d ⋆ g`.
    fn check_one_dimension<const M: usize, const R: usize, const A: usize, V: Variant<M, R, A>>(name: &str) {
        let t = &V::T;
        let d: [f64; A] = std::array::from_fn(|i| 0.37 * i as f64 - 0.9 + (i * i) as f64 * 0.11);
        let g: [f64; R] = std::array::from_fn(|i| 1.3 - 0.41 * i as f64);
        let gg: [f64; A] = std::array::from_fn(|a| (0..R).map(|k| t.g[a][k] as f64 * g[k]).sum());
        let bd: [f64; A] = std::array::from_fn(|a| (0..A).map(|k| t.bt[a][k] as f64 * d[k]).sum());
        for i in 0..M {
            let y: f64 = (0..A).map(|a| t.at[i][a] as f64 * gg[a] * bd[a]).sum();
            let expected: f64 = (0..R).map(|k| d[i + k] * g[k]).sum();
            assert!(
                (y - expected).abs() < 1e-6,
                "{name}: output {i} is {y}, expected {expected}"
            );
        }
        for a in 0..A {
            for k in 0..R {
                assert_eq!(t.gt[k][a], t.g[a][k], "{name}: Gᵀ");
            }
        }
    }

    #[test]
    fn transforms_compute_a_correlation() {
        check_one_dimension::<2, 3, 4, F2x3>("F(2x2,3x3)");
        check_one_dimension::<4, 3, 6, F4x3>("F(4x4,3x3)");
        check_one_dimension::<2, 5, 6, F2x5>("F(2x2,5x5)");
        check_one_dimension::<4, 5, 8, F4x5>("F(4x4,5x5)");
    }
}
