//! Per-batch-size memory of a generated network, and the borrow-splitting
//! that lets generated code read some tensors while writing another.
//!
//! Every tensor has a constant per-sample offset and length. Training-mode
//! passes use the training layout, which keeps every activation backward
//! reads; inference-mode passes use a smaller layout planned by liveness
//! (a region is reused once its last reader has run) and no gradients. One
//! activation buffer serves both, sized for the largest need so far and
//! reused for smaller ones.

use std::ops::Range;

use crate::model_error::NnError;
use crate::workspace::Workspace;

/// Activations, their gradients, saved statistics and scratch for one network.
#[derive(Debug, Default)]
pub struct Arena {
    /// Samples of the last forward pass.
    pub batch: usize,
    pub acts: Vec<f32>,
    pub grads: Vec<f32>,
    /// Per-call saved values of fixed size (batch-norm mean and 1/std).
    pub saved: Vec<f32>,
    pub ws: Workspace,
    /// Whether the last forward pass ran in training mode (backward needs it).
    pub trained_forward: bool,
    /// Whether the last forward pass used the inference layout (outputs are
    /// read from its slots).
    pub inference_layout: bool,
}

impl Arena {
    /// Makes room for `batch` samples: `acts_per_sample` floats of
    /// activations and `grads_per_sample` of gradients per sample (0 for an
    /// inference pass, which allocates no gradients). Allocates only when a
    /// buffer is too small for the request (every buffer is kept for the
    /// largest request so far, until [`Arena::release`]). A size that cannot
    /// be allocated is an error, not an abort; so is an unusable
    /// `NN_NUM_THREADS`, checked here because every network call passes
    /// through.
    pub fn prepare(
        &mut self,
        batch: usize,
        acts_per_sample: usize,
        grads_per_sample: usize,
        saved_len: usize,
    ) -> Result<(), NnError> {
        crate::threads::configured()?;
        if batch
            .checked_mul(acts_per_sample)
            .is_none_or(|len| len > self.acts.len())
        {
            // Free the old buffer first so the peak is the new size alone;
            // if allocating fails, nothing refers to the old contents.
            self.batch = 0;
            self.trained_forward = false;
            self.acts = Vec::new();
            self.acts = zeroed(batch, acts_per_sample, "activations")?;
        }
        if batch
            .checked_mul(grads_per_sample)
            .is_none_or(|len| len > self.grads.len())
        {
            self.grads = Vec::new();
            self.grads = zeroed(batch, grads_per_sample, "gradients")?;
        }
        if self.saved.len() != saved_len {
            self.saved = zeroed(1, saved_len, "saved statistics")?;
        }
        self.batch = batch;
        Ok(())
    }

    /// Frees every buffer (activations, gradients, scratch), whichever
    /// layout sized them. The next call allocates again for its batch; until
    /// then the last outputs are gone.
    pub fn release(&mut self) {
        *self = Arena::default();
    }

    /// Bytes currently held by the buffers and the scratch.
    pub fn bytes(&self) -> usize {
        let floats = self.acts.capacity() + self.grads.capacity() + self.saved.capacity();
        floats * std::mem::size_of::<f32>() + self.ws.bytes()
    }
}

/// `samples * per_sample` zeros, or an error when the size overflows or the
/// allocator refuses. Zeroed pages come from the allocator (`calloc`), so
/// memory that is never written is never touched.
fn zeroed(samples: usize, per_sample: usize, what: &str) -> Result<Vec<f32>, NnError> {
    let fail = |bytes: usize| NnError::OutOfMemory {
        what: format!("{what} of {samples} samples x {per_sample} floats"),
        bytes,
    };
    let len = samples.checked_mul(per_sample).ok_or_else(|| fail(usize::MAX))?;
    if len == 0 {
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<f32>(len).map_err(|_| fail(usize::MAX))?;
    // SAFETY: `layout` has a non-zero size.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut f32;
    if ptr.is_null() {
        return Err(fail(layout.size()));
    }
    // SAFETY: `ptr` was allocated by the global allocator with the layout of
    // `len` f32s, and all-zero bytes are the f32 0.0.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// Sets a gradient region to zero, split over the kernel threads.
pub fn zero(region: &mut [f32]) {
    crate::threads::for_chunks_mut(region, 1, &|chunk| chunk.fill(0.0));
}

/// Reads `read` and writes `write`, two disjoint regions of one buffer.
#[inline]
pub fn read_write(
    buf: &mut [f32],
    read: Range<usize>,
    write: Range<usize>,
) -> Result<(&[f32], &mut [f32]), NnError> {
    let (r, w) = two_mut(buf, read, write)?;
    Ok((r, w))
}

/// Reads the `reads` regions (which may overlap one another) while writing
/// `write`, which none of them may overlap; the regions may lie anywhere in
/// `buf` (a layout planned by liveness reuses low offsets for later tensors).
#[inline]
pub fn reads_write<const K: usize>(
    buf: &mut [f32],
    reads: [Range<usize>; K],
    write: Range<usize>,
) -> Result<([&[f32]; K], &mut [f32]), NnError> {
    let len = buf.len();
    if write.start > write.end || write.end > len {
        return Err(layout_error(&write, &write, len));
    }
    let (below, rest) = buf.split_at_mut(write.start);
    let (y, above) = rest.split_at_mut(write.end - write.start);
    let (below, above): (&[f32], &[f32]) = (below, above);
    let mut xs: [&[f32]; K] = [&[]; K];
    for (x, read) in xs.iter_mut().zip(reads) {
        *x = if read.start > read.end || read.end > len {
            return Err(layout_error(&read, &write, len));
        } else if read.end <= write.start {
            &below[read]
        } else if read.start >= write.end {
            &above[read.start - write.end..read.end - write.end]
        } else {
            return Err(layout_error(&read, &write, len));
        };
    }
    Ok((xs, y))
}

/// Two disjoint mutable regions of one buffer, in either order.
#[inline]
pub fn two_mut(
    buf: &mut [f32],
    a: Range<usize>,
    b: Range<usize>,
) -> Result<(&mut [f32], &mut [f32]), NnError> {
    let swapped = a.start > b.start;
    let (first, second) = if swapped { (b, a) } else { (a, b) };
    if first.end > second.start || second.end > buf.len() || first.start > first.end {
        return Err(layout_error(&first, &second, buf.len()));
    }
    let (lo, hi) = buf.split_at_mut(second.start);
    let (x, y) = (&mut lo[first], &mut hi[..second.end - second.start]);
    Ok(if swapped { (y, x) } else { (x, y) })
}

fn layout_error(a: &Range<usize>, b: &Range<usize>, len: usize) -> NnError {
    NnError::Other(format!(
        "internal layout error: regions {a:?} and {b:?} of a {len}-float arena overlap or are out of order"
    ))
}

#[cfg(test)]
mod tests {
    use super::reads_write;

    #[test]
    fn reads_on_both_sides_of_the_write() {
        let mut buf: Vec<f32> = (0..10).map(|i| i as f32).collect();
        let ([a, b, c], y) = reads_write(&mut buf, [0..2, 8..10, 1..3], 4..6).unwrap();
        assert_eq!((a, b, c), (&[0.0, 1.0][..], &[8.0, 9.0][..], &[1.0, 2.0][..]));
        y.fill(-1.0);
        assert_eq!(&buf[3..7], &[3.0, -1.0, -1.0, 6.0]);
    }

    #[test]
    fn a_read_overlapping_the_write_or_outside_is_an_error() {
        let mut buf = vec![0.0f32; 10];
        let reversed = std::ops::Range { start: 6, end: 5 };
        for read in [3..5, 5..7, 2..9, 9..11, reversed] {
            assert!(
                reads_write(&mut buf, [0..1, read.clone()], 4..6).is_err(),
                "{read:?}"
            );
        }
        assert!(reads_write(&mut buf, [0..1, 1..2], 4..11).is_err());
    }
}
