//! IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.
//!
//! The header declares the array's size; reading never takes more than
//! that from the file, so a small gzip file that inflates to gigabytes
//! fails after the declared bytes instead of filling memory.

use std::fs;
use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use crate::model_error::NnError;

/// An IDX array of unsigned bytes: its dimensions and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    pub dims: Vec<usize>,
    pub data: Vec<u8>,
}

/// The file's bytes as a reader, decompressing when it starts with gzip's
/// magic bytes.
fn open(path: &Path) -> Result<Box<dyn Read>, NnError> {
    let mut file = fs::File::open(path).map_err(|e| NnError::io("read", path, e))?;
    let mut magic = [0u8; 2];
    let got = read_up_to(&mut file, &mut magic).map_err(|e| NnError::io("read", path, e))?;
    let head = std::io::Cursor::new(magic[..got].to_vec());
    let whole = head.chain(file);
    Ok(if magic[..got] == [0x1f, 0x8b] {
        Box::new(GzDecoder::new(whole))
    } else {
        Box::new(whole)
    })
}

/// Fills as much of `buf` as the reader has; returns how much.
fn read_up_to(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads a whole file, decompressing it when it starts with gzip's magic
/// bytes; at most `limit` bytes (after decompression) are accepted.
pub fn read_maybe_gzip_limited(path: &Path, limit: usize) -> Result<Vec<u8>, NnError> {
    let reader = open(path)?;
    let mut out = Vec::new();
    let read = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt_or_io(path, e))?;
    if read > limit {
        return Err(NnError::invalid_file(
            path.display(),
            None,
            format!("holds more than {limit} bytes (after decompression)"),
        ));
    }
    Ok(out)
}

/// Reads a whole file, decompressing it when it starts with gzip's magic
/// bytes (at most 1 GiB after decompression).
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, NnError> {
    read_maybe_gzip_limited(path, 1 << 30)
}

fn corrupt_or_io(path: &Path, e: std::io::Error) -> NnError {
    match e.kind() {
        std::io::ErrorKind::InvalidInput
        | std::io::ErrorKind::InvalidData
        | std::io::ErrorKind::UnexpectedEof => {
            NnError::invalid_file(path.display(), None, format!("is not valid gzip: {e}"))
        }
        _ => NnError::io("read", path, e),
    }
}

/// The dimensions in an IDX header (`0 0 0x08 ndims`, big-endian u32 dims)
/// and the number of data bytes they declare.
fn header(bytes: &[u8], origin: &str) -> Result<(Vec<usize>, usize), NnError> {
    let bad = |what: String| NnError::invalid_file(origin, None, format!("is not a valid IDX file: {what}"));
    if bytes.len() < 4 {
        return Err(bad(format!("{} bytes, too short for a header", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08 {
        return Err(bad(format!(
            "magic {:02x}{:02x}{:02x}{:02x}, expected 000008xx (unsigned bytes)",
            bytes[0], bytes[1], bytes[2], bytes[3]
        )));
    }
    let ndims = bytes[3] as usize;
    if ndims == 0 || bytes.len() < 4 + 4 * ndims {
        return Err(bad(format!(
            "header of {ndims} dimensions does not fit in {} bytes",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..4 + 4 * ndims]
        .chunks_exact(4)
        .map(|d| u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad("dimensions overflow".into()))?;
    Ok((dims, count))
}

/// Parses IDX bytes: magic `0 0 0x08 ndims`, big-endian u32 dims, then data.
pub fn parse(bytes: &[u8], origin: &str) -> Result<IdxArray, NnError> {
    let (dims, count) = header(bytes, origin)?;
    let data = &bytes[4 + 4 * dims.len()..];
    if data.len() != count {
        return Err(NnError::invalid_file(
            origin,
            None,
            format!(
                "is not a valid IDX file: dimensions {dims:?} need {count} bytes of data, found {} \
                 (truncated or corrupt)",
                data.len()
            ),
        ));
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// Reads and parses an IDX file (gzip or not), reading no more than the
/// header declares (plus one byte, to tell that the file is too long).
pub fn read(path: &Path) -> Result<IdxArray, NnError> {
    let origin = path.display().to_string();
    let mut reader = open(path)?;
    let mut fixed = [0u8; 4];
    let got = read_up_to(&mut reader, &mut fixed).map_err(|e| corrupt_or_io(path, e))?;
    let ndims = if got == 4 { fixed[3] as usize } else { 0 };
    let mut head = fixed[..got].to_vec();
    head.resize(got + 4 * ndims, 0);
    let got_dims = read_up_to(&mut reader, &mut head[got..]).map_err(|e| corrupt_or_io(path, e))?;
    head.truncate(got + got_dims);
    let (dims, count) = header(&head, &origin)?;
    // Grows with the bytes actually present, so a header declaring more
    // than the file holds allocates no more than the file.
    let mut data = Vec::new();
    let read = reader
        .take(count as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| corrupt_or_io(path, e))?;
    if read != count {
        let found = if read > count {
            format!("more than {count}")
        } else {
            read.to_string()
        };
        return Err(NnError::invalid_file(
            origin,
            None,
            format!(
                "is not a valid IDX file: dimensions {dims:?} need {count} bytes of data, found {found} \
                 (truncated or corrupt)"
            ),
        ));
    }
    Ok(IdxArray { dims, data })
}

/// Encodes an IDX array (used to vendor subsets and in tests).
pub fn encode(array: &IdxArray) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, array.dims.len() as u8];
    for &d in &array.dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&array.data);
    out
}
