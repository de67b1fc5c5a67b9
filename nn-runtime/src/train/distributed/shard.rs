//! Which samples a rank takes, and a fingerprint that shows whether every
//! rank holds the same data.

use std::ops::Range;

use crate::train::dataset::Dataset;

/// Rank `rank`'s contiguous part of `len` items split over `size` ranks:
/// the first `len % size` ranks take one more. Parts cover `0..len` in rank
/// order, so rank 0 takes the first samples of a global batch.
pub(super) fn shard(len: usize, rank: usize, size: usize) -> Range<usize> {
    let base = len / size;
    let extra = len % size;
    let start = rank * base + rank.min(extra);
    let end = start + base + usize::from(rank < extra);
    start..end
}

/// The largest part [`shard`] gives any rank.
pub(super) fn largest_shard(len: usize, size: usize) -> usize {
    len.div_ceil(size)
}

/// FNV-1a over every value's bits and every shape: equal datasets give
/// equal fingerprints, and a differing file on one machine almost surely
/// does not.
pub(super) fn fingerprint(data: &Dataset) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |word: u64| hash = (hash ^ word).wrapping_mul(PRIME);
    mix(data.len() as u64);
    for column in data.inputs.iter().chain(&data.targets) {
        column.sample_shape.iter().for_each(|&d| mix(d as u64));
        column.data.iter().for_each(|v| mix(u64::from(v.to_bits())));
    }
    if let Some(weights) = data.sample_weight() {
        weights.iter().for_each(|w| mix(u64::from(w.to_bits())));
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_item_once_in_rank_order() {
        for len in 0..40 {
            for size in 1..7 {
                let parts: Vec<Range<usize>> = (0..size).map(|r| shard(len, r, size)).collect();
                let mut next = 0;
                for part in &parts {
                    assert_eq!(part.start, next, "len {len} size {size}: {parts:?}");
                    assert!(part.len() <= largest_shard(len, size));
                    next = part.end;
                }
                assert_eq!(next, len);
                let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
                assert!(
                    lens.iter().max().unwrap() - lens.iter().min().unwrap() <= 1,
                    "{lens:?}"
                );
            }
        }
        assert_eq!(shard(32, 0, 2), 0..16);
        assert_eq!(shard(32, 1, 2), 16..32);
        assert_eq!(shard(1, 1, 2), 1..1);
    }

    #[test]
    fn fingerprint_sees_one_changed_value_and_a_changed_shape() {
        let x = ndarray::Array2::from_shape_fn((4, 3), |(i, j)| (i * 3 + j) as f32);
        let y = ndarray::Array2::from_shape_fn((4, 2), |(i, j)| (i + j) as f32);
        let a = Dataset::new(x.clone(), y.clone()).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&a.clone()));
        let mut x2 = x.clone();
        x2[[3, 2]] = 11.000001;
        assert_ne!(
            fingerprint(&a),
            fingerprint(&Dataset::new(x2, y.clone()).unwrap())
        );
        let reshaped = Dataset::new(x.into_shape_with_order((4, 3, 1)).unwrap(), y).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&reshaped));
    }
}
