//! Reading an IDX file takes no more memory than its header declares: a
//! small gzip file that inflates to 512 MiB, or a header that declares 2 GiB
//! over a few bytes, fails without allocating it. A global allocator
//! records the largest single allocation. (Its own test binary, so other
//! tests' allocations do not count.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::{Compress, Compression, FlushCompress};
use nn_runtime::io::idx;
use nn_runtime::NnError;

struct Largest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only records sizes.
unsafe impl GlobalAlloc for Largest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Largest = Largest;

const MIB: usize = 1 << 20;

/// A valid gzip file of `head` followed by `zero_mib` MiB of zeros, built
/// without compressing them all: after a sync flush the deflate window holds
/// only zeros, so the block that encodes one more MiB of zeros can be
/// repeated.
fn zeros_bomb(head: &[u8], zero_mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; MIB];
    let mut deflate = Compress::new(Compression::best(), false);
    let mut block = |input: &[u8], flush| {
        let mut out = Vec::with_capacity(64 * 1024);
        let mut consumed = 0;
        loop {
            let before = deflate.total_in();
            deflate.compress_vec(&input[consumed..], &mut out, flush).unwrap();
            consumed += (deflate.total_in() - before) as usize;
            if consumed == input.len() && out.len() < out.capacity() {
                return out;
            }
            out.reserve(64 * 1024);
        }
    };
    let mut first = head.to_vec();
    first.extend_from_slice(&zeros);
    let prefix = block(&first, FlushCompress::Sync);
    let repeated = block(&zeros, FlushCompress::Sync);
    let end = block(&[], FlushCompress::Finish);
    let mut crc = flate2::Crc::new();
    crc.update(head);
    for _ in 0..zero_mib {
        crc.update(&zeros);
    }
    let mut gz = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    gz.extend_from_slice(&prefix);
    for _ in 1..zero_mib {
        gz.extend_from_slice(&repeated);
    }
    gz.extend_from_slice(&end);
    gz.extend_from_slice(&crc.sum().to_le_bytes());
    gz.extend_from_slice(&((head.len() + zero_mib * MIB) as u32).to_le_bytes());
    gz
}

#[test]
fn idx_reads_stop_at_the_size_the_header_declares() {
    let dir = std::env::temp_dir().join(format!("nn-idx-bomb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    // Header: a vector of 10 bytes; the data then inflates to 512 MiB.
    let bomb = zeros_bomb(&[0, 0, 8, 1, 0, 0, 0, 10], 512);
    assert!(bomb.len() < 600 * 1024, "{} bytes", bomb.len());
    let path = dir.join("bomb.idx.gz");
    std::fs::File::create(&path).unwrap().write_all(&bomb).unwrap();
    drop(bomb);
    LARGEST.store(0, Ordering::Relaxed);
    let err = idx::read(&path).unwrap_err();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(matches!(err, NnError::InvalidFile { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("dimensions [10] need 10 bytes of data, found more than 10"),
        "{err}"
    );
    assert!(largest < 4 * MIB, "largest allocation {largest} bytes");

    // Header: 2 GiB (two dims of 32768 x 65536) over 100 bytes of data.
    let mut plain = vec![0, 0, 8, 2, 0, 0, 0x80, 0, 0, 1, 0, 0];
    plain.extend_from_slice(&[7; 100]);
    let path = dir.join("short.idx");
    std::fs::write(&path, &plain).unwrap();
    LARGEST.store(0, Ordering::Relaxed);
    let err = idx::read(&path).unwrap_err();
    let largest = LARGEST.load(Ordering::Relaxed);
    assert!(err.to_string().contains("found 100"), "{err}");
    assert!(largest < 4 * MIB, "largest allocation {largest} bytes");

    // A file that matches its header still reads, gzip or not.
    let array = idx::IdxArray {
        dims: vec![3, 2],
        data: vec![1, 2, 3, 4, 5, 6],
    };
    let path = dir.join("ok.idx");
    std::fs::write(&path, idx::encode(&array)).unwrap();
    assert_eq!(idx::read(&path).unwrap(), array);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(&idx::encode(&array)).unwrap();
    let path = dir.join("ok.idx.gz");
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    assert_eq!(idx::read(&path).unwrap(), array);
    // Truncated: fewer bytes than declared.
    let path = dir.join("truncated.idx");
    std::fs::write(&path, &idx::encode(&array)[..16]).unwrap();
    assert!(idx::read(&path).unwrap_err().to_string().contains("found 4"));
    std::fs::remove_dir_all(&dir).unwrap();
}
