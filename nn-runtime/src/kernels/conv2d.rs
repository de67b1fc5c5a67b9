//! 2-D convolution over NHWC tensors with a Keras-layout kernel
//! `[kh, kw, cin, cout]`.
//!
//! Direct convolution: each image is copied once into a zero-padded buffer,
//! after which every window lies inside it and the products are gathered
//! GEMMs ([`crate::gather`]) over precomputed offsets — no im2col matrix.
//! The input gradient of a strided convolution is a gathered GEMM into
//! im2col columns, folded back onto the image. Scratch comes from the caller's [`Workspace`], one image at a time.

use crate::activation::{self, Activation};
use crate::bias;
use crate::conv_algorithm::{self, Algorithm};
use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::gather::{self, Gather, Output};
use crate::grad_write::GradWrite;
use crate::im2col;
use crate::threads::{self, Chunks, SharedSlice};
use crate::window::Window2d;
use crate::winograd;
use crate::workspace::{lock, Workspace};

use std::sync::Mutex;

/// Static description of one convolution layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv2d {
    pub window: Window2d,
    pub in_channels: usize,
    pub filters: usize,
    pub activation: Activation,
}

/// Images per group in backward: each group sums its own kernel gradient.
const GROUP: usize = 4;

/// Input channels from which a stride-1 input gradient is a direct gathered
/// product (below, the im2col path fills more of each vector).
const DIRECT_DX_MIN_CHANNELS: usize = 8;

/// A zero-padded plane that contains every window of the convolution.
#[derive(Clone, Copy)]
pub(crate) struct Padded {
    pub(crate) h: usize,
    pub(crate) w: usize,
    pub(crate) top: usize,
    pub(crate) left: usize,
}

impl Conv2d {
    pub const fn out_h(&self) -> usize {
        self.window.out_h()
    }

    pub const fn out_w(&self) -> usize {
        self.window.out_w()
    }

    /// Elements of one input image.
    pub const fn in_len(&self) -> usize {
        self.window.in_h * self.window.in_w * self.in_channels
    }

    /// Elements of one output image.
    pub const fn out_len(&self) -> usize {
        self.out_h() * self.out_w() * self.filters
    }

    /// Rows of the unfolded kernel: `kh * kw * cin`.
    pub const fn patch_len(&self) -> usize {
        self.window.kernel_h * self.window.kernel_w * self.in_channels
    }

    pub const fn kernel_len(&self) -> usize {
        self.patch_len() * self.filters
    }

    fn check(&self, kernel_name: &'static str, batch: usize) -> Result<(), KernelError> {
        expect_nonzero(kernel_name, "batch", batch)?;
        expect_nonzero(kernel_name, "input channels", self.in_channels)?;
        expect_nonzero(kernel_name, "filters", self.filters)?;
        self.window.validate(kernel_name)
    }

    /// The input plane padded so every window fits: just large enough for
    /// the last window, with TensorFlow's top/left padding.
    fn padded_input(&self) -> Padded {
        let w = &self.window;
        Padded {
            h: (self.out_h() - 1) * w.stride_h + w.kernel_h,
            w: (self.out_w() - 1) * w.stride_w + w.kernel_w,
            top: w.pad_top(),
            left: w.pad_left(),
        }
    }

    /// The output-gradient plane padded for the stride-1 input gradient
    /// (a correlation with the flipped kernel).
    fn padded_output_grad(&self) -> Padded {
        let w = &self.window;
        Padded {
            h: w.in_h + w.kernel_h - 1,
            w: w.in_w + w.kernel_w - 1,
            top: w.kernel_h - 1 - w.pad_top(),
            left: w.kernel_w - 1 - w.pad_left(),
        }
    }

    /// `x: [batch, in_h, in_w, cin]` → `y: [batch, out_h, out_w, filters]`.
    /// Images are spread over the kernel threads.
    pub fn forward(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        self.forward_fused(batch, x, kernel, bias, None, self.activation, y, ws)
    }

    /// Forward with a residual shortcut and an activation fused into the pass
    /// that writes the output: `y = activation(conv(x) + bias + residual)`,
    /// the `relu(add(Conv2D(...)(a), x))` of a residual block in one pass.
    /// `residual` has the output's shape.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_fused(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        residual: Option<&[f32]>,
        activation: Activation,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        self.check("conv2d", batch)?;
        expect_len("conv2d", "y", y, batch * self.out_len())?;
        self.forward_into(batch, x, kernel, bias, residual, activation, y, self.filters, ws)
    }

    /// Forward into every `ldy`-th float: output pixel `p` of the batch is
    /// `y[p * ldy..p * ldy + filters]`. With `ldy` the channel count of a
    /// concatenation, the convolution writes its channels of the
    /// concatenated tensor directly (no copy). A residual needs `ldy == filters`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward_into(
        &self,
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
        self.check("conv2d", batch)?;
        if let Some(r) = residual {
            expect_len("conv2d", "residual", r, batch * self.out_len())?;
            if ldy != self.filters {
                return Err(KernelError::InvalidArgument {
                    kernel: "conv2d",
                    message: format!("a residual needs a dense output, got row stride {ldy}"),
                });
            }
        }
        expect_len("conv2d", "x", x, batch * self.in_len())?;
        expect_len("conv2d", "kernel", kernel, self.kernel_len())?;
        check_strided(
            "conv2d",
            "y",
            y,
            batch * self.out_h() * self.out_w(),
            self.filters,
            ldy,
        )?;
        if let Some(b) = bias {
            expect_len("conv2d", "bias", b, self.filters)?;
        }
        // Rejects a bad activation argument before any thread starts.
        activation::forward_in_place(activation, &mut [], self.filters)?;
        if let Algorithm::Winograd(tile) = conv_algorithm::choose_over(self, &[x])? {
            return winograd::forward(
                tile, self, batch, x, kernel, bias, residual, activation, y, ldy, ws,
            );
        }
        let (w, c) = (&self.window, self.in_channels);
        let p = self.padded_input();
        let pixels = self.out_h() * self.out_w();
        // Fewer images than threads (inference on one image): each image's
        // output pixels are split into parts too.
        let threads_wanted = threads::current();
        let parts = if batch >= threads_wanted {
            1
        } else {
            threads_wanted.div_ceil(batch)
        };
        let part_rows = pixels.div_ceil(parts).div_ceil(8) * 8;
        let parts = pixels.div_ceil(part_rows);
        // Scratch per thread that can get a task, not per configured thread.
        let (shared, slots) = ws.split(threads_wanted.min(batch * parts));
        let taps_n = w.kernel_h * w.kernel_w;
        // A kernel wider than one panel is packed (see `gather::pack`).
        let packed = self.filters > gather::PANEL;
        let packed_len = if packed {
            gather::packed_len(self.patch_len(), self.filters)
        } else {
            0
        };
        let ([panels], [rows, taps]) = shared.parts([packed_len], [pixels, taps_n]);
        pixel_offsets(rows, self.out_h(), self.out_w(), w.stride_h, w.stride_w, p.w, c);
        tap_starts(taps, w.kernel_h, w.kernel_w, p.w, c);
        if packed {
            gather::pack(kernel, self.filters, self.patch_len(), self.filters, panels);
        }
        let (rows, taps) = (&*rows, &*taps);
        let kernel: &[f32] = if packed { panels } else { kernel };
        // Size every thread's scratch now, not when (or whether) a thread
        // first gets an image, so later calls never allocate.
        for slot in slots {
            lock(slot).parts([p.h * p.w * c], []);
        }
        let outputs = SharedSlice::new(y);
        let failure = Mutex::new(None);
        threads::run_on(slots.len(), batch * parts, &|task, slot| {
            let (n, part) = (task / parts, task % parts);
            let first_row = part * part_rows;
            let last_row = ((part + 1) * part_rows).min(pixels);
            let mut scratch = lock(&slots[slot]);
            let ([plane], []) = scratch.parts([p.h * p.w * c], []);
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            let plane = padded(image, w.in_h, w.in_w, c, c, &p, plane);
            let image_row = n * pixels;
            let span = (image_row + first_row) * ldy..(image_row + last_row - 1) * ldy + self.filters;
            // SAFETY: each task writes its own rows of its own image.
            let out = unsafe { outputs.range(span.clone()) };
            let g = Gather {
                x: plane,
                row_off: &rows[first_row..last_row],
                k_off: taps,
                k_run: c,
                b: kernel,
                ldb: self.filters,
                cols: self.filters,
            };
            let mut o = Output {
                out: &mut *out,
                ldo: ldy,
                accumulate: false,
                bias,
                addend: residual.map(|r| &r[span]),
            };
            let result = gather::run_maybe_packed(&g, &mut o, packed)
                .and_then(|()| activation::forward_rows(activation, out, self.filters, ldy));
            record(&failure, result);
        });
        take_failure(failure)
    }

    /// Backward. `dy` becomes the pre-activation gradient in place; `dkernel`,
    /// `dbias` and `dx` accumulate (`+=`). Images are spread over the kernel
    /// threads; each thread sums its own kernel and bias gradients, added up
    /// at the end.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        dkernel: &mut [f32],
        dbias: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "conv2d backward";
        self.check(NAME, batch)?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        expect_len(NAME, "dy", dy, batch * self.out_len())?;
        self.backward_from(batch, x, kernel, y, dy, self.filters, dkernel, dbias, dx, ws)
    }

    /// Backward of [`Conv2d::forward_into`]: `y` and `dy` hold output pixel
    /// `p` at `p * ldy..p * ldy + filters`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_from(
        &self,
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
        self.backward_with(
            batch,
            x,
            kernel,
            y,
            dy,
            ldy,
            Some(dkernel),
            dbias,
            dx,
            GradWrite::Accumulate,
            ws,
        )
    }

    /// Backward of a frozen convolution (`trainable = false`): only the
    /// input gradient `dx` (accumulated), no kernel or bias gradient, which
    /// saves the kernel-gradient product. `y`/`dy` are laid out as in
    /// [`Conv2d::backward_from`] (`ldy` apart).
    #[allow(clippy::too_many_arguments)]
    pub fn backward_input_from(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        ldy: usize,
        dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        self.backward_with(
            batch,
            x,
            kernel,
            y,
            dy,
            ldy,
            None,
            None,
            dx,
            GradWrite::Accumulate,
            ws,
        )
    }

    /// Every backward in one: `y`/`dy` laid out as in
    /// [`Conv2d::backward_from`]; no kernel gradient when `dkernel` is
    /// `None` (a frozen layer); `dx` written as `dx_write` says, which lets
    /// the first layer to write a gradient region skip its zeroing.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_with(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        ldy: usize,
        mut dkernel: Option<&mut [f32]>,
        dbias: Option<&mut [f32]>,
        mut dx: Option<&mut [f32]>,
        dx_write: GradWrite,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "conv2d backward";
        self.check(NAME, batch)?;
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "kernel", kernel, self.kernel_len())?;
        let out_rows = batch * self.out_h() * self.out_w();
        check_strided(NAME, "y", y, out_rows, self.filters, ldy)?;
        check_strided(NAME, "dy", dy, out_rows, self.filters, ldy)?;
        if let Some(dkernel) = dkernel.as_deref() {
            expect_len(NAME, "dkernel", dkernel, self.kernel_len())?;
        }
        let has_dkernel = dkernel.is_some();
        let has_dbias = dbias.is_some();
        let has_dx = dx.is_some();
        if let Some(dx) = dx.as_deref() {
            expect_len(NAME, "dx", dx, batch * self.in_len())?;
        }
        if let Some(db) = dbias.as_deref() {
            expect_len(NAME, "dbias", db, self.filters)?;
        }
        activation::backward_in_place(self.activation, &[], &mut [], self.filters)?;
        if let Algorithm::Winograd(tile) = conv_algorithm::choose_over(self, &[x, dy])? {
            // The Winograd input gradient accumulates.
            if let (Some(dx), GradWrite::Overwrite) = (dx.as_deref_mut(), dx_write) {
                threads::for_chunks_mut(dx, 1, &|chunk| chunk.fill(0.0));
            }
            return winograd::backward(tile, self, batch, x, kernel, y, dy, ldy, dkernel, dbias, dx, ws);
        }
        let accumulate_dx = dx_write == GradWrite::Accumulate;
        let mut dbias = dbias;

        let (w, c, f) = (&self.window, self.in_channels, self.filters);
        // The direct input gradient has one column per input channel: with
        // few channels (an RGB first layer) most vector lanes would be idle,
        // so those go through im2col columns (one per patch value) instead.
        let direct_dx = w.stride_h == 1 && w.stride_w == 1 && c >= DIRECT_DX_MIN_CHANNELS;
        let p = self.padded_input();
        let q = self.padded_output_grad();
        let dz_in_place = needs_no_padding(self.out_h(), self.out_w(), &q);
        let pixels = self.out_h() * self.out_w();
        let in_pixels = w.in_h * w.in_w;
        let taps_n = w.kernel_h * w.kernel_w;
        let groups = batch.div_ceil(GROUP);
        // Scratch per thread that can get a group, not per configured thread.
        let (shared, slots) = ws.split(threads::current().min(groups));
        // `flipped` holds the flipped kernel (stride 1) or the transposed one
        // (strided); `in_rows`/`grad_taps` the matching gather tables.
        // The input gradient's right operand (flipped or transposed kernel):
        // `steps` rows of `dx_cols`, packed into panels when wider than one.
        let (dx_steps, dx_cols) = if direct_dx {
            (taps_n * f, c)
        } else {
            (f, self.patch_len())
        };
        let pack_dx = has_dx && dx_cols > gather::PANEL;
        let packed_dx_len = if pack_dx {
            gather::packed_len(dx_steps, dx_cols)
        } else {
            0
        };
        let ([flipped, partials, packed_dx], [tap_rows, out_pixels, in_rows, grad_taps]) = shared.parts(
            [self.kernel_len(), groups * (self.kernel_len() + f), packed_dx_len],
            [
                self.patch_len(),
                pixels,
                if direct_dx { in_pixels } else { pixels },
                if direct_dx { taps_n } else { 1 },
            ],
        );
        tap_offsets(tap_rows, w.kernel_h, w.kernel_w, p.w, c);
        pixel_offsets(
            out_pixels,
            self.out_h(),
            self.out_w(),
            w.stride_h,
            w.stride_w,
            p.w,
            c,
        );
        if direct_dx {
            // flipped[ky'][kx'][f][c] = kernel[kh-1-ky'][kw-1-kx'][c][f]
            for t in 0..taps_n {
                let source = taps_n - 1 - t;
                for ch in 0..c {
                    for o in 0..f {
                        flipped[(t * f + o) * c + ch] = kernel[(source * c + ch) * f + o];
                    }
                }
            }
            // Where the output gradient needs no padding (1x1), it is read in
            // place, with its own pixel stride.
            let stride = if dz_in_place { ldy } else { f };
            pixel_offsets(in_rows, w.in_h, w.in_w, 1, 1, q.w, stride);
            tap_starts(grad_taps, w.kernel_h, w.kernel_w, q.w, stride);
        } else {
            // transposed[f][k] = kernel[k][f], for dcols = dz · kernelᵀ.
            let k = self.patch_len();
            for (row, values) in kernel.chunks_exact(f).enumerate() {
                for (o, &v) in values.iter().enumerate() {
                    flipped[o * k + row] = v;
                }
            }
            for (i, r) in in_rows.iter_mut().enumerate() {
                *r = i * ldy;
            }
            grad_taps[0] = 0;
        }
        if pack_dx {
            gather::pack(flipped, dx_cols, dx_steps, dx_cols, packed_dx);
        }
        let flipped: &[f32] = if pack_dx { packed_dx } else { flipped };
        let (tap_rows, out_pixels, in_rows, grad_taps) = (&*tap_rows, &*out_pixels, &*in_rows, &*grad_taps);

        // Partial kernel and bias gradients per fixed group of images, added
        // up in group order: the result does not depend on how many threads
        // ran or which thread took which group.
        let partial_len = self.kernel_len() + f;
        partials.fill(0.0);
        let plane_len = (p.h * p.w * c).max(if direct_dx { q.h * q.w * f } else { 0 });
        let cols_len = if direct_dx { 0 } else { pixels * self.patch_len() };
        // The kernel gradient's right operand is one image's output gradient,
        // packed into panels when wider than one.
        let pack_dz = has_dkernel && f > gather::PANEL;
        let packed_dz_len = if pack_dz { gather::packed_len(pixels, f) } else { 0 };
        for slot in slots {
            lock(slot).parts([plane_len, cols_len, packed_dz_len], []);
        }
        // One image's output rows span `image_span` floats, images `pixels * ldy` apart.
        let image_stride = pixels * ldy;
        let image_span = (pixels - 1) * ldy + f;
        let grads = SharedSlice::new(dy);
        let mut no_dx: [f32; 0] = [];
        let input_grads = Chunks::new(dx.unwrap_or(&mut no_dx), GROUP * self.in_len());
        let partial_chunks = Chunks::new(&mut *partials, partial_len);
        let failure = Mutex::new(None);
        threads::run_on(slots.len(), groups, &|group, slot| {
            let mut scratch = lock(&slots[slot]);
            let ([plane, cols, packed_dz], []) = scratch.parts([plane_len, cols_len, packed_dz_len], []);
            // SAFETY: `threads::run` runs each group index once, and groups
            // cover disjoint images.
            let first = group * GROUP;
            let images = GROUP.min(batch - first);
            let group_span = first * image_stride..(first + images - 1) * image_stride + image_span;
            let (dz_group, dx_group, partial) = unsafe {
                (
                    grads.range(group_span),
                    input_grads.get(group),
                    partial_chunks.get(group),
                )
            };
            let (dk, db) = partial.split_at_mut(self.kernel_len());
            let mut step = || -> Result<(), KernelError> {
                for k in 0..images {
                    let n = first + k;
                    let dz = &mut dz_group[k * image_stride..k * image_stride + image_span];
                    let out = &y[n * image_stride..n * image_stride + image_span];
                    let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
                    activation::backward_rows(self.activation, out, dz, f, ldy)?;
                    if has_dbias {
                        bias::accumulate_strided(dz, db, ldy);
                    }
                    if has_dkernel {
                        // Kernel gradient: rows (tap, c), steps over output pixels.
                        let source = padded(image, w.in_h, w.in_w, c, c, &p, &mut plane[..p.h * p.w * c]);
                        if pack_dz {
                            gather::pack(dz, ldy, pixels, f, packed_dz);
                        }
                        let g = Gather {
                            x: source,
                            row_off: tap_rows,
                            k_off: out_pixels,
                            k_run: 1,
                            b: if pack_dz { packed_dz } else { dz },
                            ldb: ldy,
                            cols: f,
                        };
                        let mut o = Output {
                            out: dk,
                            ldo: f,
                            accumulate: true,
                            bias: None,
                            addend: None,
                        };
                        gather::run_maybe_packed(&g, &mut o, pack_dz)?;
                    }
                    if !has_dx {
                        continue;
                    }
                    let dimage = &mut dx_group[k * self.in_len()..(k + 1) * self.in_len()];
                    if direct_dx {
                        let target = &mut plane[..q.h * q.w * f];
                        let source = padded(dz, self.out_h(), self.out_w(), f, ldy, &q, target);
                        let g = Gather {
                            x: source,
                            row_off: in_rows,
                            k_off: grad_taps,
                            k_run: f,
                            b: flipped,
                            ldb: c,
                            cols: c,
                        };
                        let mut o = Output {
                            out: dimage,
                            ldo: c,
                            accumulate: accumulate_dx,
                            bias: None,
                            addend: None,
                        };
                        gather::run_maybe_packed(&g, &mut o, pack_dx)?;
                    } else {
                        let kk = self.patch_len();
                        let g = Gather {
                            x: dz,
                            row_off: in_rows,
                            k_off: grad_taps,
                            k_run: f,
                            b: flipped,
                            ldb: kk,
                            cols: kk,
                        };
                        let mut o = Output {
                            out: cols,
                            ldo: kk,
                            accumulate: false,
                            bias: None,
                            addend: None,
                        };
                        gather::run_maybe_packed(&g, &mut o, pack_dx)?;
                        if !accumulate_dx {
                            dimage.fill(0.0);
                        }
                        im2col::fold_add(&self.window, c, cols, dimage);
                    }
                }
                Ok(())
            };
            record(&failure, step());
        });
        take_failure(failure)?;
        for partial in partials.chunks_exact(partial_len) {
            let (dk, db) = partial.split_at(self.kernel_len());
            if let Some(dkernel) = dkernel.as_deref_mut() {
                dkernel.iter_mut().zip(dk).for_each(|(d, s)| *d += s);
            }
            if let Some(dbias) = dbias.as_deref_mut() {
                dbias.iter_mut().zip(db).for_each(|(d, s)| *d += s);
            }
        }
        Ok(())
    }
}

/// Whether an `h x w` plane already contains every window of `p`.
fn needs_no_padding(h: usize, w: usize, p: &Padded) -> bool {
    p.top == 0 && p.left == 0 && p.w == w && p.h <= h
}

/// Checks a buffer of `rows` rows of `width` floats spaced `stride` apart.
fn check_strided(
    kernel: &'static str,
    buffer: &'static str,
    data: &[f32],
    rows: usize,
    width: usize,
    stride: usize,
) -> Result<(), KernelError> {
    if stride < width {
        return Err(KernelError::InvalidArgument {
            kernel,
            message: format!("row stride {stride} of `{buffer}` is below its width {width}"),
        });
    }
    let needed = (rows - 1) * stride + width;
    if data.len() < needed {
        return Err(KernelError::BufferLength {
            kernel,
            buffer,
            expected: needed,
            actual: data.len(),
        });
    }
    Ok(())
}

/// Keeps the first error a task reports.
pub(crate) fn record(failure: &Mutex<Option<KernelError>>, result: Result<(), KernelError>) {
    if let Err(e) = result {
        let mut slot = failure.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(e);
    }
}

pub(crate) fn take_failure(failure: Mutex<Option<KernelError>>) -> Result<(), KernelError> {
    match failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Offsets of each output pixel's window origin in a padded plane of width
/// `plane_w` with `c` channels.
fn pixel_offsets(out: &mut [usize], oh: usize, ow: usize, sh: usize, sw: usize, plane_w: usize, c: usize) {
    for oy in 0..oh {
        for ox in 0..ow {
            out[oy * ow + ox] = (oy * sh * plane_w + ox * sw) * c;
        }
    }
}

/// Offsets of each (tap, channel) relative to a window origin, in kernel
/// order `[kh, kw, c]`.
/// Offset of each tap's first channel relative to a window origin, in
/// kernel order `[kh, kw]`; the tap's `c` channels follow contiguously.
fn tap_starts(out: &mut [usize], kh: usize, kw: usize, plane_w: usize, c: usize) {
    for ky in 0..kh {
        for kx in 0..kw {
            out[ky * kw + kx] = (ky * plane_w + kx) * c;
        }
    }
}

fn tap_offsets(out: &mut [usize], kh: usize, kw: usize, plane_w: usize, c: usize) {
    let mut i = 0;
    for ky in 0..kh {
        for kx in 0..kw {
            for ch in 0..c {
                out[i] = (ky * plane_w + kx) * c + ch;
                i += 1;
            }
        }
    }
}

/// The image as a plane containing every window: the image itself when no
/// padding is needed (a 1x1 or `valid` convolution reads it in place, with
/// its own pixel stride), otherwise a dense copy in `plane` at (`top`,
/// `left`) with zeros around. The image's pixels, `c` floats each, lie
/// `stride` apart (`c` for a dense image; more inside a concatenation).
pub(crate) fn padded<'a>(
    image: &'a [f32],
    h: usize,
    w: usize,
    c: usize,
    stride: usize,
    p: &Padded,
    plane: &'a mut [f32],
) -> &'a [f32] {
    if needs_no_padding(h, w, p) {
        return &image[..(p.h * w - 1) * stride + c];
    }
    plane.fill(0.0);
    // Columns that land inside the plane (valid padding may drop some).
    let cols = w.min(p.w.saturating_sub(p.left));
    for iy in 0..h {
        let py = iy + p.top;
        if py >= p.h {
            break;
        }
        let dst = &mut plane[(py * p.w + p.left) * c..][..cols * c];
        if stride == c {
            let row = iy * w * c;
            dst.copy_from_slice(&image[row..row + cols * c]);
        } else {
            for (ix, pixel) in dst.chunks_exact_mut(c).enumerate() {
                let src = (iy * w + ix) * stride;
                pixel.copy_from_slice(&image[src..src + c]);
            }
        }
    }
    plane
}
