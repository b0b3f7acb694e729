//! The CDN port over CloudFront `CreateInvalidation`.

use async_trait::async_trait;
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use aws_sdk_cloudfront::Client;

use crate::ports::{Cdn, CdnError};

/// Invalidations of one CloudFront distribution.
pub struct CloudFrontCdn {
    client: Client,
    distribution_id: String,
}

impl CloudFrontCdn {
    /// Invalidates in the distribution `distribution_id` through `client`.
    pub fn new(client: Client, distribution_id: &str) -> Self {
        Self {
            client,
            distribution_id: distribution_id.to_owned(),
        }
    }
}

#[async_trait]
impl Cdn for CloudFrontCdn {
    async fn invalidate(&self, paths: &[String], caller_reference: &str) -> Result<(), CdnError> {
        let quantity = i32::try_from(paths.len()).map_err(|e| CdnError(Box::new(e)))?;
        let batch = InvalidationBatch::builder()
            .paths(
                Paths::builder()
                    .quantity(quantity)
                    .set_items(Some(paths.to_vec()))
                    .build()
                    .map_err(|e| CdnError(Box::new(e)))?,
            )
            .caller_reference(caller_reference)
            .build()
            .map_err(|e| CdnError(Box::new(e)))?;
        self.client
            .create_invalidation()
            .distribution_id(&self.distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| CdnError(Box::new(e)))?;
        Ok(())
    }
}

/// Where no distribution is configured (every function but the CDN worker): a call is a
/// deployment error, reported rather than ignored.
pub struct NoCdn;

#[async_trait]
impl Cdn for NoCdn {
    async fn invalidate(&self, _: &[String], _: &str) -> Result<(), CdnError> {
        Err(CdnError(
            "DISTRIBUTION_ID is not set for this function".into(),
        ))
    }
}
