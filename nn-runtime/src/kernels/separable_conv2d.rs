//! Keras's SeparableConv2D: a depthwise convolution (no bias, no
//! activation) followed by a 1x1 pointwise convolution with the layer's
//! bias and activation. Weights as Keras stores them: `depthwise_kernel`
//! `[kh, kw, in_channels, depth_multiplier]`, `pointwise_kernel`
//! `[1, 1, in_channels * depth_multiplier, filters]`, `bias [filters]`.
//!
//! The depthwise result lives only in per-thread scratch: backward
//! recomputes it (a depthwise pass is cheap next to the pointwise one), so
//! the layer needs no buffer of its own between forward and backward.

use std::sync::Mutex;

use crate::activation::{self, Activation};
use crate::bias;
use crate::conv2d::{padded, record, take_failure};
use crate::conv_axis::ConvAxis;
use crate::error::{expect_len, KernelError};
use crate::grouped_conv2d::{add_into, by_image_groups, size_slots, GroupedConv2d, Tables, IMAGES_PER_GROUP};
use crate::threads::{self, SharedSlice};
use crate::workspace::{lock, Workspace};

/// Static description of one separable convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeparableConv2d {
    /// The depthwise step (`groups == in_channels`, linear).
    pub depthwise: GroupedConv2d,
    /// The 1x1 step over the depthwise output, with the layer's activation.
    pub pointwise: GroupedConv2d,
}

impl SeparableConv2d {
    /// The layer Keras builds: `rows`/`cols` are the depthwise step's axes.
    pub const fn new(
        rows: ConvAxis,
        cols: ConvAxis,
        in_channels: usize,
        depth_multiplier: usize,
        filters: usize,
        activation: Activation,
    ) -> Self {
        let depthwise =
            GroupedConv2d::depthwise(rows, cols, in_channels, depth_multiplier, Activation::Linear);
        SeparableConv2d {
            depthwise,
            pointwise: GroupedConv2d {
                rows: one_by_one(rows.output),
                cols: one_by_one(cols.output),
                in_channels: depthwise.filters,
                filters,
                groups: 1,
                activation,
            },
        }
    }

    pub const fn out_h(&self) -> usize {
        self.pointwise.out_h()
    }

    pub const fn out_w(&self) -> usize {
        self.pointwise.out_w()
    }

    pub const fn in_len(&self) -> usize {
        self.depthwise.in_len()
    }

    pub const fn out_len(&self) -> usize {
        self.pointwise.out_len()
    }

    pub const fn depthwise_kernel_len(&self) -> usize {
        self.depthwise.kernel_len()
    }

    pub const fn pointwise_kernel_len(&self) -> usize {
        self.pointwise.kernel_len()
    }

    fn check(&self, name: &'static str, batch: usize) -> Result<(), KernelError> {
        self.depthwise.check(name, batch)?;
        self.pointwise.check(name, batch)?;
        let (d, p) = (&self.depthwise, &self.pointwise);
        let chained = d.groups == d.in_channels
            && d.activation == Activation::Linear
            && p.groups == 1
            && p.rows.kernel == 1
            && p.cols.kernel == 1
            && p.rows.stride == 1
            && p.cols.stride == 1
            && p.rows.pad_before == 0
            && p.cols.pad_before == 0
            && (p.rows.input, p.cols.input, p.in_channels) == (d.out_h(), d.out_w(), d.filters);
        if !chained {
            return Err(KernelError::InvalidArgument {
                kernel: name,
                message: "the pointwise step must be a 1x1 convolution over the depthwise output".into(),
            });
        }
        Ok(())
    }

    /// `x: [batch, in_h, in_w, in_channels]` → `y: [batch, out_h, out_w, filters]`.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        batch: usize,
        x: &[f32],
        depthwise_kernel: &[f32],
        pointwise_kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "separable_conv2d";
        self.check(NAME, batch)?;
        let (d, p) = (&self.depthwise, &self.pointwise);
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "depthwise_kernel", depthwise_kernel, d.kernel_len())?;
        expect_len(NAME, "pointwise_kernel", pointwise_kernel, p.kernel_len())?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        if let Some(b) = bias {
            expect_len(NAME, "bias", b, p.filters)?;
        }
        activation::forward_in_place(p.activation, &mut [], p.filters)?;
        let (shared, slots) = ws.split(threads::current().min(batch));
        let ([], indices) = shared.parts([], both(d.table_lens(), p.table_lens()));
        let (d_tables, p_tables) = split_tables(d, p, indices);
        let (plane_len, mid_len) = (d.plane_len(), d.out_len());
        size_slots(slots, [plane_len, mid_len]);
        let pad = d.padded_input();
        let outputs = SharedSlice::new(y);
        let failure = Mutex::new(None);
        threads::run_on(slots.len(), batch, &|n, slot| {
            let mut scratch = lock(&slots[slot]);
            let ([plane, mid], []) = scratch.parts([plane_len, mid_len], []);
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            let plane = padded(
                image,
                d.rows.input,
                d.cols.input,
                d.in_channels,
                d.in_channels,
                &pad,
                plane,
            );
            // SAFETY: each task writes its own image.
            let out = unsafe { outputs.range(n * self.out_len()..(n + 1) * self.out_len()) };
            let result = d
                .correlate(&d_tables, plane, depthwise_kernel, None, mid, false)
                .and_then(|()| p.correlate(&p_tables, mid, pointwise_kernel, bias, out, false))
                .and_then(|()| activation::forward_rows(p.activation, out, p.filters, p.filters));
            record(&failure, result);
        });
        take_failure(failure)
    }

    /// Backward. `dy` becomes the pre-activation gradient in place; the
    /// kernel, bias and input gradients accumulate (`+=`).
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        batch: usize,
        x: &[f32],
        depthwise_kernel: &[f32],
        pointwise_kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        d_depthwise: &mut [f32],
        d_pointwise: &mut [f32],
        dbias: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "separable_conv2d backward";
        self.check(NAME, batch)?;
        let (d, p) = (&self.depthwise, &self.pointwise);
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "depthwise_kernel", depthwise_kernel, d.kernel_len())?;
        expect_len(NAME, "pointwise_kernel", pointwise_kernel, p.kernel_len())?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        expect_len(NAME, "dy", dy, batch * self.out_len())?;
        expect_len(NAME, "d_depthwise", d_depthwise, d.kernel_len())?;
        expect_len(NAME, "d_pointwise", d_pointwise, p.kernel_len())?;
        if let Some(g) = dx.as_deref() {
            expect_len(NAME, "dx", g, batch * self.in_len())?;
        }
        if let Some(g) = dbias.as_deref() {
            expect_len(NAME, "dbias", g, p.filters)?;
        }
        activation::backward_in_place(p.activation, &[], &mut [], p.filters)?;
        let (dk_len, pk_len, f) = (d.kernel_len(), p.kernel_len(), p.filters);
        let partial_len = dk_len + pk_len + f;
        let image_groups = batch.div_ceil(IMAGES_PER_GROUP);
        let (shared, slots) = ws.split(threads::current().min(image_groups));
        let ([d_kernel_t, p_kernel_t, partials], indices) = shared.parts(
            [dk_len, pk_len, image_groups * partial_len],
            both(d.table_lens(), p.table_lens()),
        );
        d.transpose_kernel(depthwise_kernel, d_kernel_t);
        p.transpose_kernel(pointwise_kernel, p_kernel_t);
        let (d_kernel_t, p_kernel_t) = (&*d_kernel_t, &*p_kernel_t);
        let (d_tables, p_tables) = split_tables(d, p, indices);
        let has_dx = dx.is_some();
        let lens = [
            d.plane_len(),
            d.out_len(),
            d.out_len(),
            p.columns_len(),
            if has_dx { d.columns_len() } else { 0 },
        ];
        size_slots(slots, lens);
        let pad = d.padded_input();
        let grads = SharedSlice::new(dy);
        let mut no_dx = [];
        let input_grads = SharedSlice::new(dx.unwrap_or(&mut no_dx));
        by_image_groups(batch, partial_len, partials, slots, &|n, partial, scratch| {
            let ([plane, mid, d_mid, p_columns, d_columns], []) = scratch.parts(lens, []);
            // SAFETY: every image is visited once.
            let dz = unsafe { grads.range(n * self.out_len()..(n + 1) * self.out_len()) };
            let out = &y[n * self.out_len()..(n + 1) * self.out_len()];
            activation::backward_rows(p.activation, out, dz, f, f)?;
            let (dk, rest) = partial.split_at_mut(dk_len);
            let (pk, db) = rest.split_at_mut(pk_len);
            bias::accumulate_rows(dz, db);
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            let plane = padded(
                image,
                d.rows.input,
                d.cols.input,
                d.in_channels,
                d.in_channels,
                &pad,
                plane,
            );
            // The depthwise output again, then back through both steps.
            d.correlate(&d_tables, plane, depthwise_kernel, None, mid, false)?;
            p.kernel_grad(&p_tables, mid, dz, pk)?;
            d_mid.fill(0.0);
            p.input_grad(&p_tables, dz, pointwise_kernel, p_kernel_t, p_columns, d_mid)?;
            d.kernel_grad(&d_tables, plane, d_mid, dk)?;
            if has_dx {
                // SAFETY: every image is visited once.
                let dimage = unsafe { input_grads.range(n * self.in_len()..(n + 1) * self.in_len()) };
                d.input_grad(&d_tables, d_mid, depthwise_kernel, d_kernel_t, d_columns, dimage)?;
            }
            Ok(())
        })?;
        let mut dbias = dbias;
        for partial in partials.chunks_exact(partial_len) {
            let (dk, rest) = partial.split_at(dk_len);
            let (pk, db) = rest.split_at(pk_len);
            add_into(d_depthwise, dk);
            add_into(d_pointwise, pk);
            if let Some(g) = dbias.as_deref_mut() {
                add_into(g, db);
            }
        }
        Ok(())
    }
}

/// A 1x1 kernel over `n` positions.
const fn one_by_one(n: usize) -> ConvAxis {
    ConvAxis {
        input: n,
        kernel: 1,
        stride: 1,
        dilation: 1,
        pad_before: 0,
        output: n,
    }
}

/// The index-table lengths of two convolutions, for one `parts` call.
fn both(a: [usize; 5], b: [usize; 5]) -> [usize; 10] {
    let mut all = [0; 10];
    all[..5].copy_from_slice(&a);
    all[5..].copy_from_slice(&b);
    all
}

fn split_tables<'a>(
    d: &GroupedConv2d,
    p: &GroupedConv2d,
    indices: [&'a mut [usize]; 10],
) -> (Tables<'a>, Tables<'a>) {
    let [a0, a1, a2, a3, a4, b0, b1, b2, b3, b4] = indices;
    (
        d.fill_tables([a0, a1, a2, a3, a4]),
        p.fill_tables([b0, b1, b2, b3, b4]),
    )
}
