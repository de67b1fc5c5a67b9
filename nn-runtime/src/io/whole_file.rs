//! Reading a whole input file into memory without trusting the path: a
//! directory, device or pipe is refused before it is opened (`/dev/zero`
//! never ends, opening a FIFO blocks until a writer comes), and a file too
//! large for memory is an error rather than an abort.

use std::fs;
use std::io::Read;
use std::path::Path;

use crate::model_error::NnError;

/// The bytes of the regular file at `path`. `action` reads as "cannot
/// `action` `path`" in errors: "read weights from".
pub fn read(action: &'static str, path: &Path) -> Result<Vec<u8>, NnError> {
    let metadata = fs::metadata(path).map_err(|e| NnError::io(action, path, e))?;
    if !metadata.is_file() {
        let kind = if metadata.is_dir() {
            "a directory"
        } else {
            "a device, pipe or socket"
        };
        return Err(NnError::invalid_file(
            path.display(),
            None,
            format!("is {kind}, not a file"),
        ));
    }
    let size = usize::try_from(metadata.len()).unwrap_or(usize::MAX);
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(size).map_err(|_| NnError::OutOfMemory {
        what: format!("the contents of `{}`", path.display()),
        bytes: size,
    })?;
    // A file that grows while it is read is read as far as its size said.
    fs::File::open(path)
        .and_then(|file| file.take(metadata.len()).read_to_end(&mut bytes))
        .map_err(|e| NnError::io(action, path, e))?;
    Ok(bytes)
}
