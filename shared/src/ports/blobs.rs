//! Where ticket images live: S3 in AWS, files under `.local/` in embedded mode.

use async_trait::async_trait;

use super::BoxError;

/// Binary objects by key (`tickets/<event id>/<registration id>.png`).
#[async_trait]
pub trait Blobs: Send + Sync {
    /// Writes `bytes` under `key` with its MIME `content_type`, replacing what was there:
    /// writing the same ticket twice is harmless, which keeps the tickets worker idempotent.
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError>;
    /// The bytes under `key`; `None` when nothing is stored there.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
}

/// The blob store failed (its cause is the source).
#[derive(Debug, thiserror::Error)]
#[error("blob storage failed")]
pub struct BlobError(#[source] pub BoxError);
