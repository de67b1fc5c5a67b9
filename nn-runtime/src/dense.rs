//! Dense (fully connected) layer on the last axis: `y = act(x · W + b)` with a
//! Keras-layout kernel `W: [inputs, units]`.

use crate::activation::{self, Activation};
use crate::bias;
use crate::error::{expect_len, expect_nonzero, KernelError};
use crate::gemm::{gemm, Transpose};

/// Static description of one dense layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dense {
    pub inputs: usize,
    pub units: usize,
    pub activation: Activation,
}

impl Dense {
    pub const fn kernel_len(&self) -> usize {
        self.inputs * self.units
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
    ) -> Result<(), KernelError> {
        self.check(rows)?;
        expect_len("dense", "x", x, rows * self.inputs)?;
        expect_len("dense", "kernel", kernel, self.kernel_len())?;
        expect_len("dense", "y", y, rows * self.units)?;
        gemm(
            rows,
            self.inputs,
            self.units,
            1.0,
            x,
            Transpose::No,
            kernel,
            Transpose::No,
            0.0,
            y,
        )?;
        if let Some(b) = bias {
            expect_len("dense", "bias", b, self.units)?;
            bias::add_rows(y, b);
        }
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
    ) -> Result<(), KernelError> {
        self.check(rows)?;
        expect_len("dense backward", "x", x, rows * self.inputs)?;
        expect_len("dense backward", "kernel", kernel, self.kernel_len())?;
        expect_len("dense backward", "y", y, rows * self.units)?;
        expect_len("dense backward", "dy", dy, rows * self.units)?;
        expect_len("dense backward", "dkernel", dkernel, self.kernel_len())?;
        activation::backward_in_place(self.activation, y, dy, self.units)?;
        if let Some(db) = dbias {
            expect_len("dense backward", "dbias", db, self.units)?;
            bias::accumulate_rows(dy, db);
        }
        // dW += xᵀ · dz
        gemm(
            self.inputs,
            rows,
            self.units,
            1.0,
            x,
            Transpose::Yes,
            dy,
            Transpose::No,
            1.0,
            dkernel,
        )?;
        if let Some(dx) = dx {
            expect_len("dense backward", "dx", dx, rows * self.inputs)?;
            // dx += dz · Wᵀ
            gemm(
                rows,
                self.units,
                self.inputs,
                1.0,
                dy,
                Transpose::No,
                kernel,
                Transpose::Yes,
                1.0,
                dx,
            )?;
        }
        Ok(())
    }
}
