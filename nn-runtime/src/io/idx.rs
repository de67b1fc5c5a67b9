//! IDX files (MNIST, Fashion-MNIST), plain or gzip-compressed.

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

/// Reads a file, decompressing it when it starts with gzip's magic bytes.
pub fn read_maybe_gzip(path: &Path) -> Result<Vec<u8>, NnError> {
    let raw = fs::read(path).map_err(|e| NnError::Other(format!("cannot read `{}`: {e}", path.display())))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| NnError::Other(format!("`{}` is not valid gzip: {e}", path.display())))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Parses IDX bytes: magic `0 0 0x08 ndims`, big-endian u32 dims, then data.
pub fn parse(bytes: &[u8], origin: &str) -> Result<IdxArray, NnError> {
    let bad = |what: String| NnError::Other(format!("`{origin}` is not a valid IDX file: {what}"));
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
    let header = 4 + 4 * ndims;
    if ndims == 0 || bytes.len() < header {
        return Err(bad(format!(
            "header of {ndims} dimensions does not fit in {} bytes",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| {
            u32::from_be_bytes([
                bytes[4 + 4 * i],
                bytes[5 + 4 * i],
                bytes[6 + 4 * i],
                bytes[7 + 4 * i],
            ]) as usize
        })
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad("dimensions overflow".into()))?;
    let data = &bytes[header..];
    if data.len() != count {
        return Err(bad(format!(
            "dimensions {dims:?} need {count} bytes of data, found {} (truncated or corrupt)",
            data.len()
        )));
    }
    Ok(IdxArray {
        dims,
        data: data.to_vec(),
    })
}

/// Reads and parses an IDX file (gzip or not).
pub fn read(path: &Path) -> Result<IdxArray, NnError> {
    let bytes = read_maybe_gzip(path)?;
    parse(&bytes, &path.display().to_string())
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
