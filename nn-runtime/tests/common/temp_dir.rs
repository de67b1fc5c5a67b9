//! A scratch directory per call, removed with its contents when dropped,
//! also when the test panics. Shared by the workspace's test crates.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct TempDir(PathBuf);

impl TempDir {
    /// `<temp>/nn-<label>-<pid>-<n>`: unique across the tests of one process
    /// (the counter) and across processes running at once (the pid).
    pub fn new(label: &str) -> TempDir {
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("nn-{label}-{}-{n}", std::process::id()));
        // A leftover of an earlier process that had the same pid.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path `name` inside a [`TempDir`] of its own, which goes when this is
/// dropped. Reads as a `Path` where one is expected.
pub struct TempPath {
    path: PathBuf,
    _dir: TempDir,
}

impl TempPath {
    pub fn new(label: &str, name: &str) -> TempPath {
        let dir = TempDir::new(label);
        TempPath {
            path: dir.join(name),
            _dir: dir,
        }
    }

    pub fn as_path(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for TempPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for TempPath {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}
