//! The transactional outbox's read side: what the sweeper republishes when a function died
//! (or the bus failed) between its write and its publish.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreError;
use crate::domain::Envelope;

/// Outbox entries written by the other ports' writes, until marked published.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Up to `limit` entries not yet marked published, oldest first.
    async fn unpublished(&self, limit: usize) -> Result<Vec<Envelope>, StoreError>;

    /// Forgets the entries with these envelope ids: they reached the bus.
    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError>;
}
