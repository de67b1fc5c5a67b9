//! Winograd convolution F(m x m, 3 x 3) for stride-1 3x3 [`Conv2d`] layers
//! (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015).
//!
//! An output tile of `m x m` pixels is computed from an `a x a` input tile
//! (`a = m + 2`) with `a²` multiplications per channel pair instead of
//! `9 m²`: `Y = Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`. Over channels, the element-wise
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

/// Output tile size of a Winograd convolution.
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

/// The transform matrices of F(m x m, 3 x 3) with `a = m + 2` points.
struct Transforms<const M: usize, const A: usize> {
    /// Input: `V = Bᵀ d B`.
    bt: [[f32; A]; A],
    /// Kernel: `U = G g Gᵀ`.
    g: [[f32; 3]; A],
    /// Kernel-gradient back-transform: `dg = Gᵀ X G`.
    gt: [[f32; A]; 3],
    /// Output: `Y = Aᵀ M A`.
    at: [[f32; A]; M],
    /// Output-gradient transform: `A dY Aᵀ`.
    a: [[f32; M]; A],
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

/// Interpolation points 0, 1, -1 and infinity.
const F2: Transforms<2, 4> = {
    let g = [[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]];
    let at = [[1.0, 1.0, 1.0, 0.0], [0.0, 1.0, -1.0, -1.0]];
    Transforms {
        bt: [
            [1.0, 0.0, -1.0, 0.0],
            [0.0, 1.0, 1.0, 0.0],
            [0.0, -1.0, 1.0, 0.0],
            [0.0, 1.0, 0.0, -1.0],
        ],
        g,
        gt: transpose(g),
        at,
        a: transpose(at),
    }
};

/// Interpolation points 0, ±1, ±2 and infinity.
const F4: Transforms<4, 6> = {
    let g = [
        [1.0 / 4.0, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ];
    let at = [
        [1.0, 1.0, 1.0, 1.0, 1.0, 0.0],
        [0.0, 1.0, -1.0, 2.0, -2.0, 0.0],
        [0.0, 1.0, 1.0, 4.0, 4.0, 0.0],
        [0.0, 1.0, -1.0, 8.0, -8.0, 1.0],
    ];
    Transforms {
        bt: [
            [4.0, 0.0, -5.0, 0.0, 1.0, 0.0],
            [0.0, -4.0, -4.0, 1.0, 1.0, 0.0],
            [0.0, 4.0, -4.0, -1.0, 1.0, 0.0],
            [0.0, -2.0, -1.0, 2.0, 1.0, 0.0],
            [0.0, 2.0, -1.0, -2.0, 1.0, 0.0],
            [0.0, 4.0, 0.0, -5.0, 0.0, 1.0],
        ],
        g,
        gt: transpose(g),
        at,
        a: transpose(at),
    }
};

/// `out[i] = Σ_k coef[i][k] · inp[k]` on lanes; zero coefficients are
/// skipped (after inlining with constant matrices they cost nothing).
#[inline(always)]
fn combine<const R: usize, const K: usize>(coef: &[[f32; K]; R], inp: &[Lane; K]) -> [Lane; R] {
    let mut out = [[0.0; LANES]; R];
    for (o, row) in out.iter_mut().zip(coef) {
        for (&w, x) in row.iter().zip(inp) {
            if w == 0.0 {
                continue;
            }
            for (ol, &xl) in o.iter_mut().zip(x) {
                *ol += w * xl;
            }
        }
    }
    out
}

/// `L d Lᵀ` for a `K x K` tile of lanes and an `R x K` matrix `L`.
#[inline(always)]
fn two_sided<const R: usize, const K: usize>(left: &[[f32; K]; R], d: &[[Lane; K]; K]) -> [[Lane; R]; R] {
    // Columns first: tmp[i][b] = Σ_a L[i][a] d[a][b].
    let mut tmp = [[[0.0; LANES]; K]; R];
    for b in 0..K {
        let column: [Lane; K] = std::array::from_fn(|a| d[a][b]);
        let mixed = combine(left, &column);
        for i in 0..R {
            tmp[i][b] = mixed[i];
        }
    }
    // Then rows: out[i][j] = Σ_b L[j][b] tmp[i][b].
    std::array::from_fn(|i| combine(left, &tmp[i]))
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

/// An NHWC image (or a window of one) whose pixels lie `stride` floats
/// apart, `channels` used of each.
#[derive(Clone, Copy)]
struct Image<'a> {
    data: &'a [f32],
    h: usize,
    w: usize,
    channels: usize,
    stride: usize,
}

impl Image<'_> {
    /// Channels `c0..c0 + n` of pixel (`y`, `x`) into `lane`; zeros
    /// outside the image (the padding).
    #[inline(always)]
    fn load(&self, y: isize, x: isize, c0: usize, n: usize, lane: &mut Lane) {
        if y >= 0 && x >= 0 && (y as usize) < self.h && (x as usize) < self.w {
            let at = (y as usize * self.w + x as usize) * self.stride + c0;
            lane[..n].copy_from_slice(&self.data[at..at + n]);
        }
    }
}

/// A grid of tiles over an output plane, processed in bands of whole tile
/// rows (a band's output rows are contiguous in memory).
#[derive(Clone, Copy)]
struct Grid {
    out_h: usize,
    out_w: usize,
    tiles_w: usize,
    tiles_h: usize,
    /// Tile rows per band.
    band_rows: usize,
}

impl Grid {
    fn new(m: usize, a: usize, out_h: usize, out_w: usize, channels: usize) -> Self {
        let tiles_w = out_w.div_ceil(m);
        let per_tile = a * a * channels * std::mem::size_of::<f32>();
        let band_tiles = (BAND_BYTES / per_tile.max(1)).max(1);
        Grid {
            out_h,
            out_w,
            tiles_w,
            tiles_h: out_h.div_ceil(m),
            band_rows: (band_tiles / tiles_w).max(1),
        }
    }

    fn bands(&self) -> usize {
        self.tiles_h.div_ceil(self.band_rows)
    }

    /// The most tiles in a band.
    fn band_tiles(&self) -> usize {
        self.band_rows.min(self.tiles_h) * self.tiles_w
    }

    /// Tile rows of band `b`.
    fn band(&self, b: usize) -> std::ops::Range<usize> {
        b * self.band_rows..((b + 1) * self.band_rows).min(self.tiles_h)
    }
}

/// The input tiles of tile rows `rows` (origins `m` apart, shifted by the
/// padding `top`/`left`) into `v[pos][tile][c]`, `stride` tiles per position.
#[inline(always)]
fn input_tiles<const M: usize, const A: usize>(
    t: &Transforms<M, A>,
    image: &Image,
    (top, left): (usize, usize),
    grid: &Grid,
    rows: std::ops::Range<usize>,
    stride: usize,
    v: &mut [f32],
) {
    let c = image.channels;
    let first = rows.start * grid.tiles_w;
    for tile in first..rows.end * grid.tiles_w {
        let j = tile - first;
        let y0 = (tile / grid.tiles_w * M) as isize - top as isize;
        let x0 = (tile % grid.tiles_w * M) as isize - left as isize;
        for c0 in (0..c).step_by(LANES) {
            let n = LANES.min(c - c0);
            let mut d = [[[0.0; LANES]; A]; A];
            for (a, row) in d.iter_mut().enumerate() {
                for (b, lane) in row.iter_mut().enumerate() {
                    image.load(y0 + a as isize, x0 + b as isize, c0, n, lane);
                }
            }
            let out = two_sided(&t.bt, &d);
            for (a, row) in out.iter().enumerate() {
                for (b, lane) in row.iter().enumerate() {
                    let at = ((a * A + b) * stride + j) * c + c0;
                    v[at..at + n].copy_from_slice(&lane[..n]);
                }
            }
        }
    }
}

/// `A dY Aᵀ` of the output-gradient tiles of tile rows `rows` into
/// `d[pos][tile][f]`; pixels beyond the plane count as zero.
#[inline(always)]
fn gradient_tiles<const M: usize, const A: usize>(
    t: &Transforms<M, A>,
    dz: &Image,
    grid: &Grid,
    rows: std::ops::Range<usize>,
    stride: usize,
    d: &mut [f32],
) {
    let f = dz.channels;
    let first = rows.start * grid.tiles_w;
    for tile in first..rows.end * grid.tiles_w {
        let j = tile - first;
        let y0 = (tile / grid.tiles_w * M) as isize;
        let x0 = (tile % grid.tiles_w * M) as isize;
        for f0 in (0..f).step_by(LANES) {
            let n = LANES.min(f - f0);
            let mut g = [[[0.0; LANES]; M]; M];
            for (i, row) in g.iter_mut().enumerate() {
                for (k, lane) in row.iter_mut().enumerate() {
                    dz.load(y0 + i as isize, x0 + k as isize, f0, n, lane);
                }
            }
            let out = two_sided(&t.a, &g);
            for (a, row) in out.iter().enumerate() {
                for (b, lane) in row.iter().enumerate() {
                    let at = ((a * A + b) * stride + j) * f + f0;
                    d[at..at + n].copy_from_slice(&lane[..n]);
                }
            }
        }
    }
}

/// How transformed products become output pixels.
struct Sink<'a> {
    /// The band's output rows; pixel (y, x) of the band at `(y * out_w + x) * ldo`.
    out: &'a mut [f32],
    ldo: usize,
    bias: Option<&'a [f32]>,
    /// Same layout as `out`.
    residual: Option<&'a [f32]>,
    accumulate: bool,
}

/// `Aᵀ M A` of the products `m[pos][tile][f]` of tile rows `rows`, written
/// to the pixels of each tile that lie inside the plane.
#[inline(always)]
fn output_tiles<const M: usize, const A: usize>(
    t: &Transforms<M, A>,
    m: &[f32],
    f: usize,
    grid: &Grid,
    rows: std::ops::Range<usize>,
    stride: usize,
    sink: &mut Sink,
) {
    let first = rows.start * grid.tiles_w;
    let y_base = rows.start * M;
    for tile in first..rows.end * grid.tiles_w {
        let j = tile - first;
        let (oy0, ox0) = (tile / grid.tiles_w * M, tile % grid.tiles_w * M);
        let valid_h = M.min(grid.out_h - oy0);
        let valid_w = M.min(grid.out_w - ox0);
        for f0 in (0..f).step_by(LANES) {
            let n = LANES.min(f - f0);
            let mut p = [[[0.0; LANES]; A]; A];
            for (a, row) in p.iter_mut().enumerate() {
                for (b, lane) in row.iter_mut().enumerate() {
                    let at = ((a * A + b) * stride + j) * f + f0;
                    lane[..n].copy_from_slice(&m[at..at + n]);
                }
            }
            let y = two_sided(&t.at, &p);
            for (i, row) in y.iter().enumerate().take(valid_h) {
                for (k, lane) in row.iter().enumerate().take(valid_w) {
                    let at = ((oy0 + i - y_base) * grid.out_w + ox0 + k) * sink.ldo + f0;
                    let dst = &mut sink.out[at..at + n];
                    for (l, d) in dst.iter_mut().enumerate() {
                        let mut value = lane[l];
                        if let Some(b) = sink.bias {
                            value += b[f0 + l];
                        }
                        if let Some(r) = sink.residual {
                            value += r[at + l];
                        }
                        *d = if sink.accumulate { *d + value } else { value };
                    }
                }
            }
        }
    }
}

/// `U = G g Gᵀ` of a kernel `[3][3][c][f]` into `u[pos][c][f]`.
#[inline(always)]
fn kernel_transform<const M: usize, const A: usize>(
    t: &Transforms<M, A>,
    kernel: &[f32],
    c: usize,
    f: usize,
    u: &mut [f32],
) {
    for ch in 0..c {
        for f0 in (0..f).step_by(LANES) {
            let n = LANES.min(f - f0);
            let mut g = [[[0.0; LANES]; 3]; 3];
            for (ky, row) in g.iter_mut().enumerate() {
                for (kx, lane) in row.iter_mut().enumerate() {
                    let at = ((ky * 3 + kx) * c + ch) * f + f0;
                    lane[..n].copy_from_slice(&kernel[at..at + n]);
                }
            }
            let out = two_sided(&t.g, &g);
            for (a, row) in out.iter().enumerate() {
                for (b, lane) in row.iter().enumerate() {
                    let at = ((a * A + b) * c + ch) * f + f0;
                    u[at..at + n].copy_from_slice(&lane[..n]);
                }
            }
        }
    }
}

/// `dkernel += Gᵀ X G` for the summed products `x[pos][c][f]`.
#[inline(always)]
fn kernel_gradient<const M: usize, const A: usize>(
    t: &Transforms<M, A>,
    x: &[f32],
    c: usize,
    f: usize,
    dkernel: &mut [f32],
) {
    for ch in 0..c {
        for f0 in (0..f).step_by(LANES) {
            let n = LANES.min(f - f0);
            let mut p = [[[0.0; LANES]; A]; A];
            for (a, row) in p.iter_mut().enumerate() {
                for (b, lane) in row.iter_mut().enumerate() {
                    let at = ((a * A + b) * c + ch) * f + f0;
                    lane[..n].copy_from_slice(&x[at..at + n]);
                }
            }
            let dg = two_sided(&t.gt, &p);
            for (ky, row) in dg.iter().enumerate() {
                for (kx, lane) in row.iter().enumerate() {
                    let at = ((ky * 3 + kx) * c + ch) * f + f0;
                    for (d, &v) in dkernel[at..at + n].iter_mut().zip(lane) {
                        *d += v;
                    }
                }
            }
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

/// Forward of [`Conv2d::forward_into`] by Winograd; the caller has checked
/// every buffer and that the layer is a stride-1 3x3 convolution.
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
    match tile {
        Tile::F2 => forward_with(&F2, &args, y, ws),
        Tile::F4 => forward_with(&F4, &args, y, ws),
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

fn forward_with<const M: usize, const A: usize>(
    t: &Transforms<M, A>,
    args: &ForwardArgs,
    y: &mut [f32],
    ws: &mut Workspace,
) -> Result<(), KernelError> {
    let conv = args.conv;
    let (c, f, ldy) = (conv.in_channels, conv.filters, args.ldy);
    let w = &conv.window;
    let (oh, ow) = (conv.out_h(), conv.out_w());
    let grid = Grid::new(M, A, oh, ow, c + f);
    let bands = grid.bands();
    let band_tiles = grid.band_tiles();
    let path = gather::active();
    let (shared, slots) = ws.split(threads::current().min(args.batch * bands));
    let ([u], [tile_rows]) = shared.parts([A * A * c * f], [band_tiles]);
    strided(tile_rows, c);
    on_path(path, || kernel_transform(t, args.kernel, c, f, u));
    let (u, tile_rows) = (&*u, &*tile_rows);
    let (v_len, m_len) = (A * A * band_tiles * c, A * A * band_tiles * f);
    for slot in slots {
        lock(slot).parts([v_len, m_len], []);
    }
    let pixels = oh * ow;
    let outputs = SharedSlice::new(y);
    let failure = Mutex::new(None);
    threads::run_on(slots.len(), args.batch * bands, &|task, slot| {
        let (n, band) = (task / bands, task % bands);
        let rows = grid.band(band);
        let count = rows.len() * grid.tiles_w;
        let mut scratch = lock(&slots[slot]);
        let ([v, m], []) = scratch.parts([v_len, m_len], []);
        let image = Image {
            data: &args.x[n * conv.in_len()..(n + 1) * conv.in_len()],
            h: w.in_h,
            w: w.in_w,
            channels: c,
            stride: c,
        };
        let pads = (w.pad_top(), w.pad_left());
        on_path(path, || input_tiles(t, &image, pads, &grid, rows.clone(), band_tiles, v));
        let result = tile_products(A * A, v, u, m, (band_tiles, count), (c, f), tile_rows).and_then(|()| {
            let (y0, y1) = (rows.start * M, (rows.end * M).min(oh));
            let span = (n * pixels + y0 * ow) * ldy..(n * pixels + y1 * ow - 1) * ldy + f;
            // SAFETY: each task writes the output rows of its own band of its own image.
            let out = unsafe { outputs.range(span.clone()) };
            let mut sink = Sink {
                out,
                ldo: ldy,
                bias: args.bias,
                residual: args.residual.map(|r| &r[span]),
                accumulate: false,
            };
            on_path(path, || output_tiles(t, m, f, &grid, rows.clone(), band_tiles, &mut sink));
            activation::forward_rows(args.activation, sink.out, f, ldy)
        });
        record(&failure, result);
    });
    take_failure(failure)
}

/// Backward of [`Conv2d::backward_from`] by Winograd; the caller has checked
/// every buffer and that the layer is a stride-1 3x3 convolution.
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
    dkernel: &mut [f32],
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
    match tile {
        Tile::F2 => backward_with(&F2, &args, dy, dkernel, dbias, dx, ws),
        Tile::F4 => backward_with(&F4, &args, dy, dkernel, dbias, dx, ws),
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

fn backward_with<const M: usize, const A: usize>(
    t: &Transforms<M, A>,
    args: &BackwardArgs,
    dy: &mut [f32],
    dkernel: &mut [f32],
    dbias: Option<&mut [f32]>,
    dx: Option<&mut [f32]>,
    ws: &mut Workspace,
) -> Result<(), KernelError> {
    let conv = args.conv;
    let (c, f, ldy, batch) = (conv.in_channels, conv.filters, args.ldy, args.batch);
    let w = &conv.window;
    let (oh, ow) = (conv.out_h(), conv.out_w());
    let has_dx = dx.is_some();
    // Kernel gradient: tiles over the output; input gradient: over the input.
    let out_grid = Grid::new(M, A, oh, ow, c + f);
    let in_grid = Grid::new(M, A, w.in_h, w.in_w, c + f);
    let band_tiles = out_grid.band_tiles().max(in_grid.band_tiles());
    let path = gather::active();
    let groups = batch.div_ceil(GROUP);
    let positions = A * A;
    // Partial kernel (in the transformed domain) and bias gradients per group.
    let partial_len = positions * c * f + f;
    let (shared, slots) = ws.split(threads::current().min(groups));
    let ([flipped, u_flipped, partials], [rows_c, rows_f, channels]) = shared.parts(
        [
            if has_dx { 9 * c * f } else { 0 },
            if has_dx { positions * c * f } else { 0 },
            groups * partial_len,
        ],
        [band_tiles, band_tiles, c],
    );
    strided(rows_c, c);
    strided(rows_f, f);
    strided(channels, 1);
    if has_dx {
        // flipped[ky][kx][f][c] = kernel[2-ky][2-kx][c][f]
        for tap in 0..9 {
            let source = 8 - tap;
            for ch in 0..c {
                for o in 0..f {
                    flipped[(tap * f + o) * c + ch] = args.kernel[(source * c + ch) * f + o];
                }
            }
        }
        on_path(path, || kernel_transform(t, flipped, f, c, u_flipped));
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
                let n = first + k;
                let dz = &mut dz_group[k * image_stride..k * image_stride + image_span];
                let out = &args.y[n * image_stride..n * image_stride + image_span];
                activation::backward_rows(conv.activation, out, dz, f, ldy)?;
                bias::accumulate_strided(dz, db, ldy);
                let dz = &*dz;
                let image = Image {
                    data: &args.x[n * conv.in_len()..(n + 1) * conv.in_len()],
                    h: w.in_h,
                    w: w.in_w,
                    channels: c,
                    stride: c,
                };
                let grad = Image {
                    data: dz,
                    h: oh,
                    w: ow,
                    channels: f,
                    stride: ldy,
                };
                // Kernel gradient: X[pos] += V[pos]ᵀ · (A dY Aᵀ)[pos].
                for band in 0..out_grid.bands() {
                    let rows = out_grid.band(band);
                    let count = rows.len() * out_grid.tiles_w;
                    on_path(path, || {
                        input_tiles(t, &image, (pt, pl), &out_grid, rows.clone(), band_tiles, v);
                        gradient_tiles(t, &grad, &out_grid, rows.clone(), band_tiles, m);
                    });
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
                    continue;
                }
                // Input gradient: the output gradient convolved with the
                // flipped kernel, padded by 2 - pad on each side.
                let dimage = &mut dx_group[k * conv.in_len()..(k + 1) * conv.in_len()];
                for band in 0..in_grid.bands() {
                    let rows = in_grid.band(band);
                    let count = rows.len() * in_grid.tiles_w;
                    on_path(path, || {
                        input_tiles(t, &grad, (2 - pt, 2 - pl), &in_grid, rows.clone(), band_tiles, v)
                    });
                    tile_products(positions, v, u_flipped, m, (band_tiles, count), (f, c), rows_f)?;
                    let (y0, y1) = (rows.start * M, (rows.end * M).min(w.in_h));
                    let mut sink = Sink {
                        out: &mut dimage[y0 * w.in_w * c..y1 * w.in_w * c],
                        ldo: c,
                        bias: None,
                        residual: None,
                        accumulate: true,
                    };
                    on_path(path, || output_tiles(t, m, c, &in_grid, rows.clone(), band_tiles, &mut sink));
                }
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
    on_path(path, || kernel_gradient(t, dk, c, f, dkernel));
    if let Some(dbias) = dbias {
        dbias.iter_mut().zip(db).for_each(|(d, s)| *d += s);
    }
    Ok(())
}
