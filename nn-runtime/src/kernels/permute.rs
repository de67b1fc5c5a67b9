//! Keras's `Permute`: reorders the axes after the batch axis. Output axis
//! `i` is input axis `axes[i]` (Keras's 1-based `dims` minus one).

use crate::error::{expect_len, expect_nonzero, KernelError};

/// Most axes (after the batch axis) a permuted tensor may have.
pub const MAX_RANK: usize = 6;

/// A permutation of the `rank` axes of `[batch, in_shape[..rank]]`.
/// Entries past `rank` are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permute {
    pub in_shape: [usize; MAX_RANK],
    pub axes: [usize; MAX_RANK],
    pub rank: usize,
}

impl Permute {
    /// From slices: `axes` 0-based, the same length as `in_shape`.
    pub fn new(in_shape: &[usize], axes: &[usize]) -> Result<Self, KernelError> {
        let bad = |message: String| KernelError::InvalidArgument {
            kernel: "permute",
            message,
        };
        if in_shape.len() != axes.len() || in_shape.len() > MAX_RANK || in_shape.is_empty() {
            return Err(bad(format!(
                "needs 1 to {MAX_RANK} axes and one entry per axis, got shape {in_shape:?} and axes {axes:?}"
            )));
        }
        let mut p = Permute {
            in_shape: [1; MAX_RANK],
            axes: [0; MAX_RANK],
            rank: in_shape.len(),
        };
        p.in_shape[..p.rank].copy_from_slice(in_shape);
        p.axes[..p.rank].copy_from_slice(axes);
        p.validate("permute")?;
        Ok(p)
    }

    fn validate(&self, kernel: &'static str) -> Result<(), KernelError> {
        if self.rank == 0 || self.rank > MAX_RANK {
            return Err(KernelError::InvalidArgument {
                kernel,
                message: format!("rank must be 1 to {MAX_RANK}, got {}", self.rank),
            });
        }
        let axes = &self.axes[..self.rank];
        let mut seen = [false; MAX_RANK];
        for &a in axes {
            if a >= self.rank || seen[a] {
                return Err(KernelError::InvalidArgument {
                    kernel,
                    message: format!(
                        "axes {axes:?} are not a permutation of 0..{} (each axis exactly once)",
                        self.rank
                    ),
                });
            }
            seen[a] = true;
        }
        for &d in &self.in_shape[..self.rank] {
            expect_nonzero(kernel, "axis length", d)?;
        }
        Ok(())
    }

    /// The output's shape (after the batch axis).
    pub fn out_shape(&self) -> [usize; MAX_RANK] {
        let mut out = [1; MAX_RANK];
        for (o, &a) in out.iter_mut().zip(&self.axes[..self.rank]) {
            *o = self.in_shape[a];
        }
        out
    }

    fn len(&self) -> usize {
        self.in_shape[..self.rank].iter().product()
    }

    /// Walks the output in row-major order, calling `visit(output index,
    /// input index)` for one sample.
    fn for_each(&self, mut visit: impl FnMut(usize, usize)) {
        let rank = self.rank;
        // Row-major strides of the input, then read in output-axis order.
        let mut in_strides = [0; MAX_RANK];
        let mut stride = 1;
        for axis in (0..rank).rev() {
            in_strides[axis] = stride;
            stride *= self.in_shape[axis];
        }
        let out_shape = self.out_shape();
        let mut step = [0; MAX_RANK];
        for (s, &a) in step.iter_mut().zip(&self.axes[..rank]) {
            *s = in_strides[a];
        }
        let mut index = [0; MAX_RANK];
        let mut input = 0;
        for out in 0..self.len() {
            visit(out, input);
            // Odometer over the output axes, last fastest.
            for axis in (0..rank).rev() {
                index[axis] += 1;
                input += step[axis];
                if index[axis] < out_shape[axis] {
                    break;
                }
                input -= step[axis] * out_shape[axis];
                index[axis] = 0;
            }
        }
    }

    /// `x: [batch, in_shape]` → `y: [batch, out_shape]`.
    pub fn forward(&self, batch: usize, x: &[f32], y: &mut [f32]) -> Result<(), KernelError> {
        const NAME: &str = "permute";
        self.validate(NAME)?;
        expect_nonzero(NAME, "batch", batch)?;
        let len = self.len();
        expect_len(NAME, "x", x, batch * len)?;
        expect_len(NAME, "y", y, batch * len)?;
        for (xs, ys) in x.chunks_exact(len).zip(y.chunks_exact_mut(len)) {
            self.for_each(|out, input| ys[out] = xs[input]);
        }
        Ok(())
    }

    /// `dx +=` the output gradient put back in input order.
    pub fn backward(&self, batch: usize, dy: &[f32], dx: &mut [f32]) -> Result<(), KernelError> {
        const NAME: &str = "permute backward";
        self.validate(NAME)?;
        expect_nonzero(NAME, "batch", batch)?;
        let len = self.len();
        expect_len(NAME, "dy", dy, batch * len)?;
        expect_len(NAME, "dx", dx, batch * len)?;
        for (gs, ds) in dy.chunks_exact(len).zip(dx.chunks_exact_mut(len)) {
            self.for_each(|out, input| ds[input] += gs[out]);
        }
        Ok(())
    }
}
