//! Per-batch-size memory of a generated network, and the borrow-splitting
//! that lets generated code read some tensors while writing another.
//!
//! Every tensor has a constant per-sample offset and length, in topological
//! order, so a layer's output always lies after its inputs. The arena is sized
//! for the largest batch seen and reused for smaller ones.

use std::ops::Range;

use crate::model_error::NnError;
use crate::workspace::Workspace;

/// Activations, their gradients, saved statistics and scratch for one network.
#[derive(Debug, Default)]
pub struct Arena {
    /// Samples the buffers currently hold room for.
    capacity: usize,
    /// Samples of the last forward pass.
    pub batch: usize,
    pub acts: Vec<f32>,
    pub grads: Vec<f32>,
    /// Per-call saved values of fixed size (batch-norm mean and 1/std).
    pub saved: Vec<f32>,
    pub ws: Workspace,
    /// Whether the last forward pass ran in training mode (backward needs it).
    pub trained_forward: bool,
}

impl Arena {
    /// Makes room for `batch` samples: `acts_per_sample` floats of
    /// activations and `grads_per_sample` of gradients per sample. Allocates
    /// only when `batch` exceeds every earlier batch (or after
    /// [`Arena::release`]). A size that cannot be allocated is an error, not
    /// an abort; so is an unusable `NN_NUM_THREADS`, checked here because
    /// every network call passes through.
    pub fn prepare(
        &mut self,
        batch: usize,
        acts_per_sample: usize,
        grads_per_sample: usize,
        saved_len: usize,
    ) -> Result<(), NnError> {
        crate::threads::configured()?;
        if batch > self.capacity {
            // Free the old buffers first so the peak is the new size alone;
            // if allocating fails, nothing refers to the old contents.
            self.batch = 0;
            self.trained_forward = false;
            self.acts = Vec::new();
            self.grads = Vec::new();
            self.capacity = 0;
            self.acts = zeroed(batch, acts_per_sample, "activations")?;
            self.grads = zeroed(batch, grads_per_sample, "gradients")?;
            self.capacity = batch;
        }
        if self.saved.len() != saved_len {
            self.saved = zeroed(1, saved_len, "saved statistics")?;
        }
        self.batch = batch;
        Ok(())
    }

    /// Frees every buffer (activations, gradients, scratch). The next call
    /// allocates again for its batch; until then the last outputs are gone.
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
