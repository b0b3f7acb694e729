//! Embedded mode has no CDN in front of it: invalidations are logged, so a developer sees
//! what production would purge.

use async_trait::async_trait;

use crate::ports::{Cdn, CdnError};

/// Logs each invalidation instead of making one.
pub struct LoggingCdn;

#[async_trait]
impl Cdn for LoggingCdn {
    async fn invalidate(&self, paths: &[String], caller_reference: &str) -> Result<(), CdnError> {
        tracing::info!(?paths, caller_reference, "CDN invalidation");
        Ok(())
    }
}
