//! How a backward kernel writes an input gradient.
//!
//! Several layers may read one tensor, so its gradient is a sum over them.
//! The generated backward pass knows, at compile time, which of those
//! layers runs first: that one overwrites the gradient region and every
//! later one adds to it. This saves zeroing the region in a pass of its own
//! and reading the zeros back in the first writer.

/// Whether an input gradient replaces what its region holds or adds to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GradWrite {
    /// `dx += ...`: the region holds earlier writers' sums (or zeros).
    Accumulate,
    /// `dx = ...`: the region's old contents are ignored (garbage is fine).
    Overwrite,
}
