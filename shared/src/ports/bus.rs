//! Publishing domain events: one SNS topic fanned out to SQS queues in AWS, the in-process
//! bus with the same routing in embedded mode.

use async_trait::async_trait;

use super::BoxError;
use crate::domain::Envelope;

/// Publishes domain events to every subscribed consumer, at least once.
#[async_trait]
pub trait Bus: Send + Sync {
    /// Publishes `outbox` in order; an error means some may not have been published (they
    /// stay in the outbox, and the sweeper publishes them again).
    async fn publish(&self, outbox: &[Envelope]) -> Result<(), BusError>;
}

/// Publishing failed (its cause is the source).
#[derive(Debug, thiserror::Error)]
#[error("publishing domain events failed")]
pub struct BusError(#[source] pub BoxError);
