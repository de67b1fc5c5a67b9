//! 2-D convolution over NHWC tensors with a Keras-layout kernel
//! `[kh, kw, cin, cout]`.
//!
//! Direct convolution: each image is copied once into a zero-padded buffer,
//! after which every window lies inside it and the products are gathered
//! GEMMs ([`crate::gather`]) over precomputed offsets — no im2col matrix.
//! The input gradient of a strided convolution still goes through im2col and
//! a GEMM. Scratch comes from the caller's [`Workspace`], one image at a time.

use crate::activation::{self, Activation};
use crate::bias;
use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::gather::{self, Gather, Output};
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

/// A zero-padded plane that contains every window of the convolution.
#[derive(Clone, Copy)]
struct Padded {
    h: usize,
    w: usize,
    top: usize,
    left: usize,
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
        let (w, c) = (&self.window, self.in_channels);
        let p = self.padded_input();
        let pixels = self.out_h() * self.out_w();
        let ([plane], [rows, taps]) = ws.parts([p.h * p.w * c], [pixels, self.patch_len()]);
        pixel_offsets(rows, self.out_h(), self.out_w(), w.stride_h, w.stride_w, p.w, c);
        tap_offsets(taps, w.kernel_h, w.kernel_w, p.w, c);
        for (image, out) in x
            .chunks_exact(self.in_len())
            .zip(y.chunks_exact_mut(self.out_len()))
        {
            pad_into(image, w.in_h, w.in_w, c, &p, plane);
            let g = Gather {
                x: plane,
                row_off: rows,
                k_off: taps,
                b: kernel,
                ldb: self.filters,
                cols: self.filters,
            };
            gather::run(
                &g,
                &mut Output {
                    out,
                    ldo: self.filters,
                    accumulate: false,
                    bias,
                },
            )?;
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
        dx: Option<&mut [f32]>,
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
        self.kernel_grad(x, dy, dkernel, ws)?;
        if let Some(dx) = dx {
            if self.window.stride_h == 1 && self.window.stride_w == 1 {
                self.input_grad_direct(kernel, dy, dx, ws)?;
            } else {
                self.input_grad_im2col(kernel, dy, dx, ws)?;
            }
        }
        Ok(())
    }

    /// `dkernel[(tap, c)][f] += Σ_pixels padded_x[pixel + tap][c] * dz[pixel][f]`.
    fn kernel_grad(
        &self,
        x: &[f32],
        dz: &[f32],
        dkernel: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        let (w, c) = (&self.window, self.in_channels);
        let p = self.padded_input();
        let pixels = self.out_h() * self.out_w();
        let ([plane], [rows, steps]) = ws.parts([p.h * p.w * c], [self.patch_len(), pixels]);
        tap_offsets(rows, w.kernel_h, w.kernel_w, p.w, c);
        pixel_offsets(steps, self.out_h(), self.out_w(), w.stride_h, w.stride_w, p.w, c);
        for (image, grad) in x.chunks_exact(self.in_len()).zip(dz.chunks_exact(self.out_len())) {
            pad_into(image, w.in_h, w.in_w, c, &p, plane);
            let g = Gather {
                x: plane,
                row_off: rows,
                k_off: steps,
                b: grad,
                ldb: self.filters,
                cols: self.filters,
            };
            gather::run(
                &g,
                &mut Output {
                    out: dkernel,
                    ldo: self.filters,
                    accumulate: true,
                    bias: None,
                },
            )?;
        }
        Ok(())
    }

    /// Stride 1: `dx[pixel][c] += Σ_(tap, f) padded_dz[pixel + tap][f] * flipped[tap][f][c]`.
    fn input_grad_direct(
        &self,
        kernel: &[f32],
        dz: &[f32],
        dx: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        let (w, c, f) = (&self.window, self.in_channels, self.filters);
        let q = self.padded_output_grad();
        let pixels = w.in_h * w.in_w;
        let taps = w.kernel_h * w.kernel_w;
        let ([plane, flipped], [rows, steps]) =
            ws.parts([q.h * q.w * f, self.kernel_len()], [pixels, taps * f]);
        // flipped[ky'][kx'][f][c] = kernel[kh-1-ky'][kw-1-kx'][c][f]
        for t in 0..taps {
            let source = taps - 1 - t;
            for ch in 0..c {
                for o in 0..f {
                    flipped[(t * f + o) * c + ch] = kernel[(source * c + ch) * f + o];
                }
            }
        }
        pixel_offsets(rows, w.in_h, w.in_w, 1, 1, q.w, f);
        tap_offsets(steps, w.kernel_h, w.kernel_w, q.w, f);
        for (grad, dimage) in dz
            .chunks_exact(self.out_len())
            .zip(dx.chunks_exact_mut(self.in_len()))
        {
            pad_into(grad, self.out_h(), self.out_w(), f, &q, plane);
            let g = Gather {
                x: plane,
                row_off: rows,
                k_off: steps,
                b: flipped,
                ldb: c,
                cols: c,
            };
            gather::run(
                &g,
                &mut Output {
                    out: dimage,
                    ldo: c,
                    accumulate: true,
                    bias: None,
                },
            )?;
        }
        Ok(())
    }

    /// Strided: `dcols = dz · kernelᵀ`, folded back onto the input pixels.
    fn input_grad_im2col(
        &self,
        kernel: &[f32],
        dz: &[f32],
        dx: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        let (k, n) = (self.patch_len(), self.filters);
        let m = self.out_h() * self.out_w();
        let dcols = ws.take(m * k);
        for (grad, dimage) in dz
            .chunks_exact(self.out_len())
            .zip(dx.chunks_exact_mut(self.in_len()))
        {
            gemm(
                m,
                n,
                k,
                1.0,
                grad,
                Transpose::No,
                kernel,
                Transpose::Yes,
                0.0,
                dcols,
            )?;
            im2col::fold_add(&self.window, self.in_channels, dcols, dimage);
        }
        Ok(())
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

/// Copies an `h x w x c` image into `plane` at (`top`, `left`), zeros around.
fn pad_into(image: &[f32], h: usize, w: usize, c: usize, p: &Padded, plane: &mut [f32]) {
    let row = w * c;
    if p.top == 0 && p.left == 0 && p.w == w && p.h <= h {
        plane.copy_from_slice(&image[..p.h * row]);
        return;
    }
    plane.fill(0.0);
    for iy in 0..h {
        let py = iy + p.top;
        if py >= p.h {
            break;
        }
        // Columns that land inside the plane (valid padding may drop some).
        let cols = w.min(p.w.saturating_sub(p.left));
        let dst = &mut plane[(py * p.w + p.left) * c..][..cols * c];
        dst.copy_from_slice(&image[iy * row..iy * row + cols * c]);
    }
}
