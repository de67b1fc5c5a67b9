//! Keras's Conv2DTranspose over NHWC tensors with its kernel layout
//! `[kh, kw, filters, in_channels]`.
//!
//! A transposed convolution is the input gradient of a forward convolution
//! from `filters` to `in_channels` channels whose kernel is exactly this
//! kernel, so it is built from that forward convolution's products
//! ([`GroupedConv2d`]): the forward pass is its input gradient, the input
//! gradient its forward pass, and the kernel gradient its kernel gradient
//! with the roles of image and output gradient swapped. The output size
//! follows Keras ([`ConvAxis::transposed`]).

use crate::activation::{self, Activation};
use crate::bias;
use crate::conv2d::{padded, record, take_failure};
use crate::conv_axis::ConvAxis;
use crate::error::{expect_len, KernelError};
use crate::grouped_conv2d::{add_into, by_image_groups, size_slots, GroupedConv2d, IMAGES_PER_GROUP};
use crate::threads::{self, SharedSlice};
use crate::workspace::{lock, Workspace};

use std::sync::Mutex;

/// Static description of one transposed convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv2dTranspose {
    /// The forward convolution this layer transposes: its input is this
    /// layer's output (`filters` channels) and its output this layer's
    /// input (`in_channels` channels). Build its axes with
    /// [`ConvAxis::transposed`].
    pub forward_conv: GroupedConv2d,
    pub activation: Activation,
}

impl Conv2dTranspose {
    /// The layer Keras builds for an `in_h x in_w x in_channels` input.
    pub const fn new(
        rows: ConvAxis,
        cols: ConvAxis,
        in_channels: usize,
        filters: usize,
        activation: Activation,
    ) -> Self {
        Conv2dTranspose {
            forward_conv: GroupedConv2d {
                rows,
                cols,
                in_channels: filters,
                filters: in_channels,
                groups: 1,
                activation: Activation::Linear,
            },
            activation,
        }
    }

    /// Channels of this layer's input: the forward convolution's outputs.
    #[allow(clippy::misnamed_getters)]
    pub const fn in_channels(&self) -> usize {
        self.forward_conv.filters
    }

    /// Channels of this layer's output: the forward convolution's inputs.
    #[allow(clippy::misnamed_getters)]
    pub const fn filters(&self) -> usize {
        self.forward_conv.in_channels
    }

    pub const fn out_h(&self) -> usize {
        self.forward_conv.rows.input
    }

    pub const fn out_w(&self) -> usize {
        self.forward_conv.cols.input
    }

    /// Elements of one input image.
    pub const fn in_len(&self) -> usize {
        self.forward_conv.out_len()
    }

    /// Elements of one output image.
    pub const fn out_len(&self) -> usize {
        self.forward_conv.in_len()
    }

    pub const fn kernel_len(&self) -> usize {
        self.forward_conv.kernel_len()
    }

    fn check(&self, name: &'static str, batch: usize) -> Result<(), KernelError> {
        self.forward_conv.check(name, batch)?;
        if self.forward_conv.groups != 1 {
            return Err(KernelError::InvalidArgument {
                kernel: name,
                message: format!(
                    "{} groups; a transposed convolution has one",
                    self.forward_conv.groups
                ),
            });
        }
        Ok(())
    }

    /// `x: [batch, in_h, in_w, in_channels]` → `y: [batch, out_h, out_w, filters]`.
    pub fn forward(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "conv2d_transpose";
        self.check(NAME, batch)?;
        let conv = &self.forward_conv;
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "kernel", kernel, self.kernel_len())?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        if let Some(b) = bias {
            expect_len(NAME, "bias", b, self.filters())?;
        }
        activation::forward_in_place(self.activation, &mut [], self.filters())?;
        let (shared, slots) = ws.split(threads::current().min(batch));
        let ([kernel_t], indices) = shared.parts([self.kernel_len()], conv.table_lens());
        conv.transpose_kernel(kernel, kernel_t);
        let (kernel_t, tables) = (&*kernel_t, conv.fill_tables(indices));
        let columns_len = conv.columns_len();
        size_slots(slots, [columns_len]);
        let outputs = SharedSlice::new(y);
        let failure = Mutex::new(None);
        threads::run_on(slots.len(), batch, &|n, slot| {
            let mut scratch = lock(&slots[slot]);
            let ([columns], []) = scratch.parts([columns_len], []);
            // SAFETY: each task writes its own image.
            let out = unsafe { outputs.range(n * self.out_len()..(n + 1) * self.out_len()) };
            out.fill(0.0);
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            let result = conv
                .input_grad(&tables, image, kernel, kernel_t, columns, out)
                .and_then(|()| {
                    if let Some(b) = bias {
                        out.chunks_exact_mut(b.len()).for_each(|pixel| add_into(pixel, b));
                    }
                    activation::forward_rows(self.activation, out, self.filters(), self.filters())
                });
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
        const NAME: &str = "conv2d_transpose backward";
        self.check(NAME, batch)?;
        let conv = &self.forward_conv;
        let f = self.filters();
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "kernel", kernel, self.kernel_len())?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        expect_len(NAME, "dy", dy, batch * self.out_len())?;
        expect_len(NAME, "dkernel", dkernel, self.kernel_len())?;
        if let Some(d) = dx.as_deref() {
            expect_len(NAME, "dx", d, batch * self.in_len())?;
        }
        if let Some(d) = dbias.as_deref() {
            expect_len(NAME, "dbias", d, f)?;
        }
        activation::backward_in_place(self.activation, &[], &mut [], f)?;
        let partial_len = self.kernel_len() + f;
        let image_groups = batch.div_ceil(IMAGES_PER_GROUP);
        let (shared, slots) = ws.split(threads::current().min(image_groups));
        let ([partials], indices) = shared.parts([image_groups * partial_len], conv.table_lens());
        let tables = conv.fill_tables(indices);
        let plane_len = conv.plane_len();
        size_slots(slots, [plane_len]);
        let p = conv.padded_input();
        let grads = SharedSlice::new(dy);
        let has_dx = dx.is_some();
        let mut no_dx = [];
        let input_grads = SharedSlice::new(dx.unwrap_or(&mut no_dx));
        by_image_groups(batch, partial_len, partials, slots, &|n, partial, scratch| {
            let ([plane], []) = scratch.parts([plane_len], []);
            // SAFETY: every image is visited once.
            let dz = unsafe { grads.range(n * self.out_len()..(n + 1) * self.out_len()) };
            let out = &y[n * self.out_len()..(n + 1) * self.out_len()];
            activation::backward_rows(self.activation, out, dz, f, f)?;
            let (dk, db) = partial.split_at_mut(self.kernel_len());
            bias::accumulate_rows(dz, db);
            let image = &x[n * self.in_len()..(n + 1) * self.in_len()];
            let plane = padded(dz, conv.rows.input, conv.cols.input, f, f, &p, plane);
            conv.kernel_grad(&tables, plane, image, dk)?;
            if has_dx {
                // SAFETY: every image is visited once.
                let dimage = unsafe { input_grads.range(n * self.in_len()..(n + 1) * self.in_len()) };
                conv.correlate(&tables, plane, kernel, None, dimage, true)?;
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
