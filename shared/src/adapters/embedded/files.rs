//! Blobs as files under one directory (`.local/blobs/` in the dev server).

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use uuid::Uuid;

use crate::ports::{BlobError, Blobs};

/// Each key is a relative path under `dir`; its `/`-separated parts become directories.
pub struct FileBlobs {
    dir: PathBuf,
}

impl FileBlobs {
    /// Blobs under `dir` (created on the first write).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The file of `key`, refusing anything that could name a file outside `dir`.
    fn path(&self, key: &str) -> Result<PathBuf, BlobError> {
        // Checked segment by segment rather than with `Path::components`, which silently
        // drops `.` and empty segments: two spellings of one key would share a file.
        let plain = !key.contains('\0')
            && key
                .split('/')
                .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
        if !plain {
            return Err(BlobError(format!("invalid blob key {key:?}").into()));
        }
        Ok(self.dir.join(key))
    }
}

/// Runs blocking file I/O off the async workers (tokio's `fs` feature does the same).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, BlobError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| BlobError(Box::new(e)))?
        .map_err(|e| BlobError(Box::new(e)))
}

/// Writes through a temporary file in the same directory and renames it over `path`, so a
/// reader sees the old content or the new, never half a PNG, and concurrent writers of one
/// key never interleave.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let parent = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a blob path has no parent"))?;
    std::fs::create_dir_all(parent)?;
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let temporary = parent.join(format!(".{name}.{}.tmp", Uuid::new_v4().simple()));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        // Best effort: the write already failed, and that error is the one worth reporting.
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

#[async_trait]
impl Blobs for FileBlobs {
    async fn put(&self, key: &str, _content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        let path = self.path(key)?;
        blocking(move || write_atomically(&path, &bytes)).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(key)?;
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_inside_the_directory() {
        let blobs = FileBlobs::new(PathBuf::from("/data/blobs"));
        assert_eq!(
            blobs.path("tickets/e/r.png").unwrap(),
            PathBuf::from("/data/blobs/tickets/e/r.png")
        );
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "./a",
            "a/./b",
            "a//b",
            "a/",
            "nul\0byte",
        ] {
            assert!(blobs.path(bad).is_err(), "{bad:?}");
        }
    }
}
