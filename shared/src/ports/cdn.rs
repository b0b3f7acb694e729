//! The CDN in front of the public API: CloudFront in AWS, a log line in embedded mode.

use async_trait::async_trait;

use super::BoxError;

/// Forgets cached copies of public paths.
#[async_trait]
pub trait Cdn: Send + Sync {
    /// Invalidates `paths` (CloudFront path patterns: `/events/<id>`, `/events?*`). The same
    /// `caller_reference` names the same invalidation (CloudFront's `CallerReference`), so
    /// a retried message does not start a second one.
    async fn invalidate(&self, paths: &[String], caller_reference: &str) -> Result<(), CdnError>;
}

/// The invalidation failed (its cause is the source).
#[derive(Debug, thiserror::Error)]
#[error("invalidating the CDN failed")]
pub struct CdnError(#[source] pub BoxError);
