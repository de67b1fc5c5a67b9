//! 2-D convolution with dilation, explicit padding and channel groups:
//! Keras's Conv2D `dilation_rate` and `groups`, DepthwiseConv2D, and Conv1D
//! (a one-row convolution, `causal` padding included). Its per-image
//! products are also what SeparableConv2D and Conv2DTranspose are made of.
//!
//! The kernel has Keras's layout `[kh, kw, in_channels / groups, filters]`:
//! output channel `o` belongs to group `g = o / (filters / groups)` and reads
//! input channels `g * in_channels / groups ..`. A DepthwiseConv2D kernel
//! `[kh, kw, channels, depth_multiplier]` is exactly this layout with
//! `groups = channels` (output channel `c * depth_multiplier + m`, Keras's
//! order), so one kernel serves both.
//!
//! Every product is a gathered GEMM per group ([`crate::gather`]) over a
//! zero-padded copy of one image, so every ISA path of the micro-kernel is
//! used. The input gradient is gathered into im2col columns and folded back
//! onto the image along the dilated taps. Depthwise convolutions (one input
//! channel per group) use direct loops over the channels instead
//! ([`crate::depthwise_conv2d`]).

use std::sync::Mutex;

use crate::activation::{self, Activation};
use crate::bias;
use crate::conv2d::{padded, record, take_failure, Padded};
use crate::conv_axis::{self, ConvAxis};
use crate::depthwise_conv2d;
use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::gather::{self, Gather, Output};
use crate::threads::{self, SharedSlice};
use crate::workspace::{lock, Scratch, Workspace};

/// Static description of one grouped, dilated convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GroupedConv2d {
    /// The height axis.
    pub rows: ConvAxis,
    /// The width axis.
    pub cols: ConvAxis,
    pub in_channels: usize,
    pub filters: usize,
    /// Both channel counts are multiples of it; 1 is an ordinary convolution.
    pub groups: usize,
    pub activation: Activation,
}

/// Images per group in backward: each group sums its own kernel gradient,
/// and groups are added in order, so results do not depend on threads.
pub(crate) const IMAGES_PER_GROUP: usize = 4;

/// Gather offsets shared by every image of one call.
#[derive(Clone, Copy)]
pub(crate) struct Tables<'a> {
    /// Window origin of each output pixel in the padded plane.
    pub(crate) pixels: &'a [usize],
    /// Each tap's offset from a window origin (a run of a group's channels).
    pub(crate) taps: &'a [usize],
    /// Each (tap, channel of a group) offset from a window origin: the rows
    /// of the kernel gradient.
    pub(crate) tap_channels: &'a [usize],
    /// Start of each output pixel's gradient: `pixel * filters`.
    pub(crate) grad_rows: &'a [usize],
    /// `[0]`: an input-gradient row is one run over a group's filters.
    pub(crate) one_run: &'a [usize],
}

impl GroupedConv2d {
    /// Keras's DepthwiseConv2D: `channels * depth_multiplier` outputs, each
    /// input channel convolved with its own `depth_multiplier` filters.
    pub const fn depthwise(
        rows: ConvAxis,
        cols: ConvAxis,
        channels: usize,
        depth_multiplier: usize,
        activation: Activation,
    ) -> Self {
        GroupedConv2d {
            rows,
            cols,
            in_channels: channels,
            filters: channels * depth_multiplier,
            groups: channels,
            activation,
        }
    }

    /// Keras's Conv1D over `[steps, channels]`: a convolution of one row,
    /// whose kernel `[k, in / groups, filters]` is the `[1, k, ..]` kernel.
    pub const fn conv1d(
        steps: ConvAxis,
        in_channels: usize,
        filters: usize,
        groups: usize,
        activation: Activation,
    ) -> Self {
        GroupedConv2d {
            rows: ConvAxis::single(),
            cols: steps,
            in_channels,
            filters,
            groups,
            activation,
        }
    }

    pub const fn out_h(&self) -> usize {
        self.rows.output
    }

    pub const fn out_w(&self) -> usize {
        self.cols.output
    }

    /// Elements of one input image.
    pub const fn in_len(&self) -> usize {
        self.rows.input * self.cols.input * self.in_channels
    }

    /// Elements of one output image.
    pub const fn out_len(&self) -> usize {
        self.rows.output * self.cols.output * self.filters
    }

    /// Input channels each group reads.
    pub const fn group_in(&self) -> usize {
        self.in_channels / self.groups
    }

    /// Output channels each group writes.
    pub const fn group_out(&self) -> usize {
        self.filters / self.groups
    }

    const fn taps(&self) -> usize {
        self.rows.kernel * self.cols.kernel
    }

    /// Rows of the unfolded kernel: `kh * kw * in_channels / groups`.
    pub const fn patch_len(&self) -> usize {
        self.taps() * self.group_in()
    }

    pub const fn kernel_len(&self) -> usize {
        self.patch_len() * self.filters
    }

    const fn pixels(&self) -> usize {
        self.rows.output * self.cols.output
    }

    pub(crate) fn check(&self, kernel: &'static str, batch: usize) -> Result<(), KernelError> {
        expect_nonzero(kernel, "batch", batch)?;
        expect_nonzero(kernel, "input channels", self.in_channels)?;
        expect_nonzero(kernel, "filters", self.filters)?;
        expect_nonzero(kernel, "groups", self.groups)?;
        conv_axis::validate(&self.rows, kernel, "height")?;
        conv_axis::validate(&self.cols, kernel, "width")?;
        if !self.in_channels.is_multiple_of(self.groups) || !self.filters.is_multiple_of(self.groups) {
            return Err(KernelError::InvalidArgument {
                kernel,
                message: format!(
                    "{} groups must divide both the {} input channels and the {} filters",
                    self.groups, self.in_channels, self.filters
                ),
            });
        }
        // Every length the kernel computes, checked once here so that the
        // plain arithmetic elsewhere cannot overflow.
        let (r, c) = (&self.rows, &self.cols);
        let lengths: [&[usize]; 5] = [
            &[batch, r.input, c.input, self.in_channels],
            &[batch, r.output, c.output, self.filters],
            &[r.padded_len(), c.padded_len(), self.in_channels],
            &[r.kernel, c.kernel, self.in_channels, self.filters],
            &[r.output, c.output, r.kernel, c.kernel, self.in_channels],
        ];
        let fits = lengths.iter().all(|dims| {
            dims.iter()
                .try_fold(1usize, |acc, &d| acc.checked_mul(d))
                .is_some()
        });
        if !fits {
            return Err(KernelError::InvalidArgument {
                kernel,
                message: format!("the sizes of {self:?} at batch {batch} overflow the address space"),
            });
        }
        Ok(())
    }

    /// The input plane padded so that every dilated window fits.
    pub(crate) const fn padded_input(&self) -> Padded {
        Padded {
            h: self.rows.padded_len(),
            w: self.cols.padded_len(),
            top: self.rows.pad_before,
            left: self.cols.pad_before,
        }
    }

    /// Floats of one padded input plane.
    pub(crate) const fn plane_len(&self) -> usize {
        let p = self.padded_input();
        p.h * p.w * self.in_channels
    }

    /// Floats of one image's im2col columns (input gradient); none for the
    /// depthwise loops.
    pub(crate) const fn columns_len(&self) -> usize {
        if self.is_depthwise() {
            0
        } else {
            self.pixels() * self.patch_len()
        }
    }

    /// One input channel per group (and more than one group): the direct
    /// depthwise loops ([`crate::depthwise_conv2d`]) instead of 1-column
    /// gathered products.
    pub(crate) const fn is_depthwise(&self) -> bool {
        self.groups > 1 && self.groups == self.in_channels
    }

    /// Lengths of the index tables [`GroupedConv2d::fill_tables`] fills.
    pub(crate) const fn table_lens(&self) -> [usize; 5] {
        [self.pixels(), self.taps(), self.patch_len(), self.pixels(), 1]
    }

    pub(crate) fn fill_tables<'a>(&self, tables: [&'a mut [usize]; 5]) -> Tables<'a> {
        let [pixels, taps, tap_channels, grad_rows, one_run] = tables;
        let (r, c, ch) = (&self.rows, &self.cols, self.in_channels);
        let plane_w = self.padded_input().w;
        for oy in 0..r.output {
            for ox in 0..c.output {
                pixels[oy * c.output + ox] = (oy * r.stride * plane_w + ox * c.stride) * ch;
            }
        }
        for ky in 0..r.kernel {
            for kx in 0..c.kernel {
                taps[ky * c.kernel + kx] = (ky * r.dilation * plane_w + kx * c.dilation) * ch;
            }
        }
        let group_in = self.group_in();
        for (t, &tap) in taps.iter().enumerate() {
            for cl in 0..group_in {
                tap_channels[t * group_in + cl] = tap + cl;
            }
        }
        for (p, row) in grad_rows.iter_mut().enumerate() {
            *row = p * self.filters;
        }
        one_run[0] = 0;
        Tables {
            pixels,
            taps,
            tap_channels,
            grad_rows,
            one_run,
        }
    }

    /// `out (=, or += with accumulate) plane ⋆ kernel + bias` for one image
    /// whose padded plane is `plane`.
    pub(crate) fn correlate(
        &self,
        t: &Tables,
        plane: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        out: &mut [f32],
        accumulate: bool,
    ) -> Result<(), KernelError> {
        if self.is_depthwise() {
            depthwise_conv2d::correlate(self, t, plane, kernel, bias, out, accumulate);
            return Ok(());
        }
        let (cg, fg) = (self.group_in(), self.group_out());
        for g in 0..self.groups {
            gather::run(
                &Gather {
                    x: &plane[g * cg..],
                    row_off: t.pixels,
                    k_off: t.taps,
                    k_run: cg,
                    b: &kernel[g * fg..],
                    ldb: self.filters,
                    cols: fg,
                },
                &mut Output {
                    out: &mut out[g * fg..],
                    ldo: self.filters,
                    accumulate,
                    bias: bias.map(|b| &b[g * fg..]),
                    addend: None,
                },
            )?;
        }
        Ok(())
    }

    /// `dkernel += plane ⋆ dz` for one image: rows (tap, channel of the
    /// group), steps over output pixels.
    pub(crate) fn kernel_grad(
        &self,
        t: &Tables,
        plane: &[f32],
        dz: &[f32],
        dkernel: &mut [f32],
    ) -> Result<(), KernelError> {
        if self.is_depthwise() {
            depthwise_conv2d::kernel_grad(self, t, plane, dz, dkernel);
            return Ok(());
        }
        let (cg, fg) = (self.group_in(), self.group_out());
        for g in 0..self.groups {
            gather::run(
                &Gather {
                    x: &plane[g * cg..],
                    row_off: t.tap_channels,
                    k_off: t.pixels,
                    k_run: 1,
                    b: &dz[g * fg..],
                    ldb: self.filters,
                    cols: fg,
                },
                &mut Output {
                    out: &mut dkernel[g * fg..],
                    ldo: self.filters,
                    accumulate: true,
                    bias: None,
                    addend: None,
                },
            )?;
        }
        Ok(())
    }

    /// `dimage += dz ⋆ᵀ kernel` for one image, given the kernel and its
    /// transpose by [`GroupedConv2d::transpose_kernel`]; `columns` is
    /// scratch of [`GroupedConv2d::columns_len`] floats.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn input_grad(
        &self,
        t: &Tables,
        dz: &[f32],
        kernel: &[f32],
        kernel_t: &[f32],
        columns: &mut [f32],
        dimage: &mut [f32],
    ) -> Result<(), KernelError> {
        if self.is_depthwise() {
            depthwise_conv2d::input_grad(self, dz, kernel, dimage);
            return Ok(());
        }
        let (fg, patch) = (self.group_out(), self.patch_len());
        for g in 0..self.groups {
            gather::run(
                &Gather {
                    x: &dz[g * fg..],
                    row_off: t.grad_rows,
                    k_off: t.one_run,
                    k_run: fg,
                    b: &kernel_t[g * fg * patch..],
                    ldb: patch,
                    cols: patch,
                },
                &mut Output {
                    out: columns,
                    ldo: patch,
                    accumulate: false,
                    bias: None,
                    addend: None,
                },
            )?;
            self.fold_group(g, columns, dimage);
        }
        Ok(())
    }

    /// Adds group `g`'s im2col columns back onto the input pixels its
    /// dilated taps read; taps over the padding are dropped.
    fn fold_group(&self, g: usize, columns: &[f32], dimage: &mut [f32]) {
        let (r, c) = (&self.rows, &self.cols);
        let (cg, patch) = (self.group_in(), self.patch_len());
        let input_at = |o: usize, k: usize, a: &ConvAxis| {
            (o * a.stride + k * a.dilation)
                .checked_sub(a.pad_before)
                .filter(|&i| i < a.input)
        };
        for oy in 0..r.output {
            for ox in 0..c.output {
                let row = &columns[(oy * c.output + ox) * patch..][..patch];
                for ky in 0..r.kernel {
                    let Some(iy) = input_at(oy, ky, r) else { continue };
                    for kx in 0..c.kernel {
                        let Some(ix) = input_at(ox, kx, c) else { continue };
                        let dst = &mut dimage[(iy * c.input + ix) * self.in_channels + g * cg..][..cg];
                        let src = &row[(ky * c.kernel + kx) * cg..][..cg];
                        dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
                    }
                }
            }
        }
    }

    /// `kernel_t[o][j] = kernel[j][o]`: the kernel as `[filters, patch]`.
    pub(crate) fn transpose_kernel(&self, kernel: &[f32], kernel_t: &mut [f32]) {
        let patch = self.patch_len();
        for (j, row) in kernel.chunks_exact(self.filters).enumerate() {
            for (o, &v) in row.iter().enumerate() {
                kernel_t[o * patch + j] = v;
            }
        }
    }

    /// `x: [batch, in_h, in_w, in_channels]` → `y: [batch, out_h, out_w,
    /// filters]`. Images are spread over the kernel threads.
    pub fn forward(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "conv2d (grouped/dilated)";
        self.check(NAME, batch)?;
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "kernel", kernel, self.kernel_len())?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        if let Some(b) = bias {
            expect_len(NAME, "bias", b, self.filters)?;
        }
        // Rejects a bad activation argument before any thread starts.
        activation::forward_in_place(self.activation, &mut [], self.filters)?;
        // Fewer images than threads (inference on one image): each image's
        // output pixels are split into parts too.
        let threads_wanted = threads::current();
        let pixels = self.pixels();
        let parts = if batch >= threads_wanted {
            1
        } else {
            threads_wanted.div_ceil(batch)
        };
        let part_rows = pixels.div_ceil(parts);
        let parts = pixels.div_ceil(part_rows);
        let (shared, slots) = ws.split(threads_wanted.min(batch * parts));
        let ([], indices) = shared.parts([], self.table_lens());
        let tables = self.fill_tables(indices);
        let plane_len = self.plane_len();
        size_slots(slots, [plane_len]);
        let p = self.padded_input();
        let outputs = SharedSlice::new(y);
        let failure = Mutex::new(None);
        threads::run_on(slots.len(), batch * parts, &|task, slot| {
            let (n, part) = (task / parts, task % parts);
            let rows = part * part_rows..((part + 1) * part_rows).min(pixels);
            let mut scratch = lock(&slots[slot]);
            let ([plane], []) = scratch.parts([plane_len], []);
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            let plane = padded(
                image,
                self.rows.input,
                self.cols.input,
                self.in_channels,
                self.in_channels,
                &p,
                plane,
            );
            let first = n * pixels + rows.start;
            // SAFETY: each task writes its own rows of its own image.
            let out = unsafe { outputs.range(first * self.filters..(first + rows.len()) * self.filters) };
            let part_tables = Tables {
                pixels: &tables.pixels[rows],
                ..tables
            };
            let result = self
                .correlate(&part_tables, plane, kernel, bias, out, false)
                .and_then(|()| activation::forward_rows(self.activation, out, self.filters, self.filters));
            record(&failure, result);
        });
        take_failure(failure)
    }

    /// Backward. `dy` becomes the pre-activation gradient in place;
    /// `dkernel`, `dbias` and `dx` accumulate (`+=`).
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
        const NAME: &str = "conv2d (grouped/dilated) backward";
        self.check(NAME, batch)?;
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "kernel", kernel, self.kernel_len())?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        expect_len(NAME, "dy", dy, batch * self.out_len())?;
        expect_len(NAME, "dkernel", dkernel, self.kernel_len())?;
        if let Some(d) = dx.as_deref() {
            expect_len(NAME, "dx", d, batch * self.in_len())?;
        }
        if let Some(d) = dbias.as_deref() {
            expect_len(NAME, "dbias", d, self.filters)?;
        }
        activation::backward_in_place(self.activation, &[], &mut [], self.filters)?;
        let has_dx = dx.is_some();
        let partial_len = self.kernel_len() + self.filters;
        let image_groups = batch.div_ceil(IMAGES_PER_GROUP);
        let (shared, slots) = ws.split(threads::current().min(image_groups));
        let ([kernel_t, partials], indices) =
            shared.parts([self.kernel_len(), image_groups * partial_len], self.table_lens());
        self.transpose_kernel(kernel, kernel_t);
        let (kernel_t, tables) = (&*kernel_t, self.fill_tables(indices));
        let (plane_len, columns_len) = (self.plane_len(), if has_dx { self.columns_len() } else { 0 });
        size_slots(slots, [plane_len, columns_len]);
        let p = self.padded_input();
        let grads = SharedSlice::new(dy);
        let mut no_dx = [];
        let input_grads = SharedSlice::new(dx.unwrap_or(&mut no_dx));
        by_image_groups(batch, partial_len, partials, slots, &|n, partial, scratch| {
            let ([plane, columns], []) = scratch.parts([plane_len, columns_len], []);
            // SAFETY: every image is visited once.
            let dz = unsafe { grads.range(n * self.out_len()..(n + 1) * self.out_len()) };
            let out = &y[n * self.out_len()..(n + 1) * self.out_len()];
            activation::backward_rows(self.activation, out, dz, self.filters, self.filters)?;
            let (dk, db) = partial.split_at_mut(self.kernel_len());
            bias::accumulate_rows(dz, db);
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            let plane = padded(
                image,
                self.rows.input,
                self.cols.input,
                self.in_channels,
                self.in_channels,
                &p,
                plane,
            );
            self.kernel_grad(&tables, plane, dz, dk)?;
            if has_dx {
                // SAFETY: every image is visited once.
                let dimage = unsafe { input_grads.range(n * self.in_len()..(n + 1) * self.in_len()) };
                self.input_grad(&tables, dz, kernel, kernel_t, columns, dimage)?;
            }
            Ok(())
        })?;
        let mut dbias = dbias;
        for partial in partials.chunks_exact(partial_len) {
            let (dk, db) = partial.split_at(self.kernel_len());
            add_into(dkernel, dk);
            if let Some(d) = dbias.as_deref_mut() {
                add_into(d, db);
            }
        }
        Ok(())
    }
}

/// Sizes every thread slot's scratch now, not when (or whether) a thread
/// first gets work, so later calls never allocate.
pub(crate) fn size_slots<const F: usize>(slots: &[Mutex<Scratch>], floats: [usize; F]) {
    for slot in slots {
        lock(slot).parts(floats, []);
    }
}

pub(crate) fn add_into(total: &mut [f32], part: &[f32]) {
    total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
}

/// One image's backward: `(image, partial weight gradients, thread scratch)`.
pub(crate) type ImageStep<'a> =
    dyn Fn(usize, &mut [f32], &mut Scratch) -> Result<(), KernelError> + Sync + 'a;

/// Backward over fixed groups of images: `step(image, partial, scratch)`
/// runs for every image, each group of images on one thread with its own
/// zeroed `partial_len` floats of `partials` for its weight gradients. The
/// caller adds the partials up in order afterwards.
pub(crate) fn by_image_groups(
    batch: usize,
    partial_len: usize,
    partials: &mut [f32],
    slots: &[Mutex<Scratch>],
    step: &ImageStep<'_>,
) -> Result<(), KernelError> {
    partials.fill(0.0);
    let groups = batch.div_ceil(IMAGES_PER_GROUP);
    let chunks = SharedSlice::new(partials);
    let failure = Mutex::new(None);
    threads::run_on(slots.len(), groups, &|group, slot| {
        let mut scratch = lock(&slots[slot]);
        // SAFETY: each group index runs once and owns its partial.
        let partial = unsafe { chunks.range(group * partial_len..(group + 1) * partial_len) };
        let first = group * IMAGES_PER_GROUP;
        let result =
            (first..(first + IMAGES_PER_GROUP).min(batch)).try_for_each(|n| step(n, partial, &mut scratch));
        record(&failure, result);
    });
    take_failure(failure)
}
