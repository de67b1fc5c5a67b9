//! Dense (fully connected) layer on the last axis: `y = act(x · W + b)` with a
//! Keras-layout kernel `W: [inputs, units]`.
//!
//! All three products go through the gathered GEMM ([`crate::gather`]) with
//! scratch from the caller's [`Workspace`], so a call allocates nothing.

use crate::activation::{self, Activation};
use crate::bias;
use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::gather::{self, Gather, Output};
use crate::grad_write::GradWrite;
use crate::workspace::Workspace;

/// Static description of one dense layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dense {
    pub inputs: usize,
    pub units: usize,
    pub activation: Activation,
}

/// Inputs summed in one register chain before the sum is added to its
/// superblock partial.
const BLOCK: usize = 2048;
/// Rows per pass over the inputs (the AVX-512 micro-kernel's tile height).
const ROW_CHUNK: usize = 8;
/// Inputs whose blocks are summed into one partial before it is added to `y`.
const SUPERBLOCK: usize = 16 * BLOCK;

/// `0, step, 2*step, ...` into `out`.
fn strided(out: &mut [usize], step: usize) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = i * step;
    }
}

impl Dense {
    pub const fn kernel_len(&self) -> usize {
        self.inputs * self.units
    }

    /// Floats of the superblock partial sums [`Dense::forward_blocked`] needs.
    fn partial_len(&self, rows: usize) -> usize {
        if self.inputs > SUPERBLOCK {
            rows * self.units
        } else {
            0
        }
    }

    /// `y = bias + x · W` summed in blocks, so a long dot product is not one
    /// register chain: each block of [`BLOCK`] inputs is summed fresh in
    /// registers and added to its superblock's partial; each superblock of
    /// [`SUPERBLOCK`] inputs is added to `y`. The rounding error then grows
    /// with `BLOCK + SUPERBLOCK / BLOCK + inputs / SUPERBLOCK` instead of
    /// with `inputs` (1.4e-4 relative over 123,008 inputs before, see
    /// tests/dense.rs), at the cost of one output pass per block.
    fn forward_blocked(
        &self,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        partial: &mut [f32],
        row_off: &[usize],
    ) -> Result<(), KernelError> {
        let units = self.units;
        // Rows in chunks of the micro-kernel's tile height, blocks inside: a
        // row's inputs are still read front to back in one stream.
        for (chunk, rows) in row_off.chunks(ROW_CHUNK).enumerate() {
            let outputs = chunk * ROW_CHUNK * units..(chunk * ROW_CHUNK + rows.len()) * units;
            let y = &mut y[outputs.clone()];
            // Empty when there is one superblock.
            let partial = partial.get_mut(outputs).unwrap_or(&mut []);
            // Inputs `start..end` summed into `out` (`+=` unless `first`).
            let block = |start: usize, end: usize, out: &mut [f32], first: bool, bias: Option<&[f32]>| {
                gather::run(
                    &Gather {
                        x,
                        row_off: rows,
                        k_off: &[start],
                        k_run: end - start,
                        b: &kernel[start * units..],
                        ldb: units,
                        cols: units,
                    },
                    &mut Output {
                        out,
                        ldo: units,
                        accumulate: !first,
                        bias,
                        addend: None,
                    },
                )
            };
            for (s, super_start) in (0..self.inputs).step_by(SUPERBLOCK).enumerate() {
                let super_end = (super_start + SUPERBLOCK).min(self.inputs);
                // The first superblock goes straight into `y`, with the bias.
                let into_y = s == 0;
                for start in (super_start..super_end).step_by(BLOCK) {
                    let end = (start + BLOCK).min(super_end);
                    let first = start == super_start;
                    if into_y {
                        block(start, end, y, first, bias.filter(|_| first))?;
                    } else {
                        block(start, end, partial, first, None)?;
                    }
                }
                if !into_y {
                    y.iter_mut().zip(&*partial).for_each(|(d, p)| *d += p);
                }
            }
        }
        Ok(())
    }

    fn check(&self, rows: usize) -> Result<(), KernelError> {
        expect_nonzero("dense", "rows (batch)", rows)?;
        expect_nonzero("dense", "inputs", self.inputs)?;
        expect_nonzero("dense", "units", self.units)
    }

    /// Forward over `rows` rows (the batch times any leading axes):
    /// `x: [rows, inputs]` → `y: [rows, units]`.
    pub fn forward(
        &self,
        rows: usize,
        x: &[f32],
        kernel: &[f32],
        bias: Option<&[f32]>,
        y: &mut [f32],
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        self.check(rows)?;
        expect_len("dense", "x", x, rows * self.inputs)?;
        expect_len("dense", "kernel", kernel, self.kernel_len())?;
        expect_len("dense", "y", y, rows * self.units)?;
        if let Some(b) = bias {
            expect_len("dense", "bias", b, self.units)?;
        }
        let ([partial], [row_off]) = ws.parts([self.partial_len(rows)], [rows]);
        strided(row_off, self.inputs);
        self.forward_blocked(x, kernel, bias, y, partial, row_off)?;
        activation::forward_in_place(self.activation, y, self.units)
    }

    /// Backward. `dy` (gradient of `y`) is turned into the gradient of the
    /// pre-activation in place. Parameter gradients and `dx` *accumulate*
    /// (`+=`), so shared layers and tensors used twice need no extra code.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        rows: usize,
        x: &[f32],
        kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        dkernel: &mut [f32],
        dbias: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        expect_len("dense backward", "x", x, rows * self.inputs)?;
        expect_len("dense backward", "dkernel", dkernel, self.kernel_len())?;
        self.backward_parts(
            rows,
            Some((x, dkernel)),
            kernel,
            y,
            dy,
            dbias,
            dx,
            GradWrite::Accumulate,
            ws,
        )
    }

    /// Backward of a frozen layer (`trainable = false`): `dy` becomes the
    /// pre-activation gradient in place and `dx` accumulates; no kernel or
    /// bias gradient is computed, which saves the kernel-gradient product.
    pub fn backward_input(
        &self,
        rows: usize,
        kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        dx: Option<&mut [f32]>,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        self.backward_parts(rows, None, kernel, y, dy, None, dx, GradWrite::Accumulate, ws)
    }

    /// Every backward in one: no kernel gradient when `dkernel` is `None`
    /// (a frozen layer), and `dx` written as `dx_write` says, which lets the
    /// first layer to write a gradient region skip its zeroing.
    #[allow(clippy::too_many_arguments)]
    pub fn backward_with(
        &self,
        rows: usize,
        x: &[f32],
        kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        dkernel: Option<&mut [f32]>,
        dbias: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
        dx_write: GradWrite,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        let x_and_dkernel = match dkernel {
            Some(dkernel) => {
                expect_len("dense backward", "x", x, rows * self.inputs)?;
                expect_len("dense backward", "dkernel", dkernel, self.kernel_len())?;
                Some((x, dkernel))
            }
            None => None,
        };
        self.backward_parts(rows, x_and_dkernel, kernel, y, dy, dbias, dx, dx_write, ws)
    }

    /// `x_and_dkernel`: the input and the kernel gradient to accumulate
    /// into, or `None` to skip the kernel gradient.
    #[allow(clippy::too_many_arguments)]
    fn backward_parts(
        &self,
        rows: usize,
        x_and_dkernel: Option<(&[f32], &mut [f32])>,
        kernel: &[f32],
        y: &[f32],
        dy: &mut [f32],
        dbias: Option<&mut [f32]>,
        dx: Option<&mut [f32]>,
        dx_write: GradWrite,
        ws: &mut Workspace,
    ) -> Result<(), KernelError> {
        self.check(rows)?;
        expect_len("dense backward", "kernel", kernel, self.kernel_len())?;
        expect_len("dense backward", "y", y, rows * self.units)?;
        expect_len("dense backward", "dy", dy, rows * self.units)?;
        activation::backward_in_place(self.activation, y, dy, self.units)?;
        if let Some(db) = dbias {
            expect_len("dense backward", "dbias", db, self.units)?;
            bias::accumulate_rows(dy, db);
        }
        let (i, u) = (self.inputs, self.units);
        let ([transposed], [input_index, row_start, grad_row]) =
            ws.parts([if dx.is_some() { i * u } else { 0 }], [i, rows, rows]);
        if let Some((x, dkernel)) = x_and_dkernel {
            // dW[i][u] += Σ_r x[r][i] * dz[r][u]: rows are inputs, steps are batch rows.
            strided(input_index, 1);
            strided(row_start, i);
            gather::run(
                &Gather {
                    x,
                    row_off: input_index,
                    k_off: row_start,
                    k_run: 1,
                    b: dy,
                    ldb: u,
                    cols: u,
                },
                &mut Output {
                    out: dkernel,
                    ldo: u,
                    accumulate: true,
                    bias: None,
                    addend: None,
                },
            )?;
        }
        if let Some(dx) = dx {
            expect_len("dense backward", "dx", dx, rows * i)?;
            // dx[r][i] += Σ_u dz[r][u] * W[i][u], with W transposed to [u][i].
            for (col, row) in kernel.chunks_exact(u).enumerate() {
                for (unit, &w) in row.iter().enumerate() {
                    transposed[unit * i + col] = w;
                }
            }
            strided(grad_row, u);
            gather::run(
                &Gather {
                    x: dy,
                    row_off: grad_row,
                    k_off: &[0],
                    k_run: u,
                    b: transposed,
                    ldb: i,
                    cols: i,
                },
                &mut Output {
                    out: dx,
                    ldo: i,
                    accumulate: dx_write == GradWrite::Accumulate,
                    bias: None,
                    addend: None,
                },
            )?;
        }
        Ok(())
    }
}
