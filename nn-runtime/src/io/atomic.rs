//! Replacing a file so that readers, concurrent writers and crashes only
//! ever see the old contents or the new ones, never a mix.
//!
//! The bytes go to a temporary file in the same directory, which is synced
//! and then renamed over the target (a rename within one file system is
//! atomic). Temporary names are short and unique per call — process id,
//! a per-process counter and a random part — so threads and processes
//! saving the same path never share one, and a target name of the maximum
//! length still leaves room. A failed save removes its temporary file; one
//! left by a killed process is never read, and the next save into that
//! directory removes it once its process is gone.

use std::collections::hash_map::RandomState;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model_error::NnError;

const PREFIX: &str = ".nn-";
const SUFFIX: &str = ".tmp";

/// Writes `bytes` to `path` atomically; `action` names the operation in
/// errors ("write weights to").
pub fn write(action: &'static str, path: &Path, bytes: &[u8]) -> Result<(), NnError> {
    if path.file_name().is_none() {
        return Err(NnError::invalid_argument(
            format!("`{}`", path.display()),
            "is not a file path",
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    remove_stale(&dir);
    let (tmp, mut file) = create_unique(&dir).map_err(|e| NnError::io(action, path, e))?;
    let result = (|| -> std::io::Result<()> {
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        sync_dir(&dir);
        Ok(())
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        NnError::io(action, path, e)
    })
}

/// A new file `.nn-<pid>-<counter>-<random>.tmp` in `dir`, created
/// exclusively (an existing file of that name is never reused).
fn create_unique(dir: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut attempts = 0;
    loop {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_u64(count);
        let random = hasher.finish() as u32;
        let name = format!("{PREFIX}{}-{count}-{random:08x}{SUFFIX}", std::process::id());
        let tmp = dir.join(name);
        match fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempts < 8 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

/// The process id in a temporary name of ours, if it is one.
fn owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let mut parts = rest.split('-');
    let pid = parts.next()?.parse().ok()?;
    let count = parts.next()?;
    let random = parts.next()?;
    let well_formed = parts.next().is_none()
        && !count.is_empty()
        && count.bytes().all(|b| b.is_ascii_digit())
        && random.len() == 8
        && random.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed.then_some(pid)
}

/// Removes temporary files in `dir` left by processes that no longer run.
/// Best effort: where liveness cannot be told (no `/proc`), they stay, and
/// are harmless since nothing reads them.
fn remove_stale(dir: &Path) {
    let proc_root = Path::new("/proc");
    if !proc_root.join("self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner) else {
            continue;
        };
        if pid != me && !proc_root.join(pid.to_string()).exists() {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Makes the rename itself durable (Unix); failures only weaken durability
/// against power loss, never atomicity, so they are not errors.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::owner;

    #[test]
    fn only_our_temporary_names_have_an_owner() {
        assert_eq!(owner(".nn-123-0-0badf00d.tmp"), Some(123));
        assert_eq!(owner(".nn-123-0-0badf00d.tmp.bak"), None);
        assert_eq!(owner(".nn-123-0-xyz.tmp"), None);
        assert_eq!(owner("weights.safetensors"), None);
        assert_eq!(owner(".nn-abc-0-0badf00d.tmp"), None);
    }
}
