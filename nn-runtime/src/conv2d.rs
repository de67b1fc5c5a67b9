//! 2-D convolution over NHWC tensors with a Keras-layout kernel
//! `[kh, kw, cin, cout]`, lowered to GEMM.
//!
//! A 1x1 stride-1 convolution *is* a GEMM over `[N*H*W, cin]` and skips
//! im2col entirely. Every other shape unfolds one image at a time into
//! workspace columns, which keeps scratch memory at one image's worth.

use crate::activation::{self, Activation};
use crate::bias;
use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::gemm::{gemm, Transpose};
use crate::im2col;
use crate::window::Window2d;
use crate::workspace::Workspace;

/// Static description of one convolution layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conv2d {
    pub window: Window2d,
    pub in_channels: usize,
    pub filters: usize,
    pub activation: Activation,
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

    /// Whether the input can be used as the column matrix as it is.
    pub const fn is_pointwise(&self) -> bool {
        self.window.kernel_h == 1
            && self.window.kernel_w == 1
            && self.window.stride_h == 1
            && self.window.stride_w == 1
    }

    /// Workspace floats a forward call needs.
    pub const fn forward_scratch_len(&self) -> usize {
        if self.is_pointwise() {
            0
        } else {
            self.out_h() * self.out_w() * self.patch_len()
        }
    }

    /// Workspace floats a backward call needs.
    pub const fn backward_scratch_len(&self) -> usize {
        2 * self.forward_scratch_len()
    }

    fn check(&self, kernel_name: &'static str, batch: usize) -> Result<(), KernelError> {
        expect_nonzero(kernel_name, "batch", batch)?;
        expect_nonzero(kernel_name, "input channels", self.in_channels)?;
        expect_nonzero(kernel_name, "filters", self.filters)?;
        self.window.validate(kernel_name)
    }

    /// `x: [batch, in_h, in_w, cin]` → `y: [batch, out_h, out_w, filters]`.
    pub fn forward(
        &self,
        batch: usize,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        self.check("conv2d", batch)?;
        expect_len("conv2d", "x", x, batch * self.in_len())?;
        expect_len("conv2d", "kernel", kernel, self.kernel_len())?;
        expect_len("conv2d", "y", y, batch * self.out_len())?;
        if let Some(b) = bias {
            expect_len("conv2d", "bias", b, self.filters)?;
        }
        let (k, n) = (self.patch_len(), self.filters);
        if self.is_pointwise() {
            let m = batch * self.window.in_h * self.window.in_w;
            gemm(m, k, n, 1.0, x, Transpose::No, kernel, Transpose::No, 0.0, y)?;
        } else {
            let m = self.out_h() * self.out_w();
            let cols = ws.take(m * k);
            for (image, out) in x
                .chunks_exact(self.in_len())
                .zip(y.chunks_exact_mut(self.out_len()))
            {
                im2col::unfold(&self.window, self.in_channels, image, cols);
                gemm(m, k, n, 1.0, cols, Transpose::No, kernel, Transpose::No, 0.0, out)?;
            }
        }
        if let Some(b) = bias {
            bias::add_rows(y, b);
        }
        activation::forward_in_place(self.activation, y, self.filters)
    }

    /// Backward. `dy` becomes the pre-activation gradient in place; `dkernel`,
    /// `dbias` and `dx` accumulate (`+=`).
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
        mut dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        const NAME: &str = "conv2d backward";
        self.check(NAME, batch)?;
        expect_len(NAME, "x", x, batch * self.in_len())?;
        expect_len(NAME, "kernel", kernel, self.kernel_len())?;
        expect_len(NAME, "y", y, batch * self.out_len())?;
        expect_len(NAME, "dy", dy, batch * self.out_len())?;
        expect_len(NAME, "dkernel", dkernel, self.kernel_len())?;
        if let Some(dx) = dx.as_deref() {
            expect_len(NAME, "dx", dx, batch * self.in_len())?;
        }
        activation::backward_in_place(self.activation, y, dy, self.filters)?;
        if let Some(db) = dbias {
            expect_len(NAME, "dbias", db, self.filters)?;
            bias::accumulate_rows(dy, db);
        }
        let (k, n) = (self.patch_len(), self.filters);
        if self.is_pointwise() {
            let m = batch * self.window.in_h * self.window.in_w;
            gemm(k, m, n, 1.0, x, Transpose::Yes, dy, Transpose::No, 1.0, dkernel)?;
            if let Some(dx) = dx {
                gemm(m, n, k, 1.0, dy, Transpose::No, kernel, Transpose::Yes, 1.0, dx)?;
            }
            return Ok(());
        }
        let m = self.out_h() * self.out_w();
        let (cols, dcols) = ws.take2(m * k, m * k);
        for (i, (image, dz)) in x
            .chunks_exact(self.in_len())
            .zip(dy.chunks_exact(self.out_len()))
            .enumerate()
        {
            // Recomputing the columns costs far less than the GEMMs around it
            // and saves keeping a whole batch of them alive.
            im2col::unfold(&self.window, self.in_channels, image, cols);
            gemm(
                k,
                m,
                n,
                1.0,
                cols,
                Transpose::Yes,
                dz,
                Transpose::No,
                1.0,
                dkernel,
            )?;
            if let Some(dx) = dx.as_deref_mut() {
                gemm(
                    m,
                    n,
                    k,
                    1.0,
                    dz,
                    Transpose::No,
                    kernel,
                    Transpose::Yes,
                    0.0,
                    dcols,
                )?;
                let dimage = &mut dx[i * self.in_len()..(i + 1) * self.in_len()];
                im2col::fold_add(&self.window, self.in_channels, dcols, dimage);
            }
        }
        Ok(())
    }
}
