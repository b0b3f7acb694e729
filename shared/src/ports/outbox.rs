//! The transactional outbox: every write that changes state stores the domain events it
//! causes in its own transaction and answers them as a [`Committed`] write, which only
//! [`AppContext::publish`](crate::app::AppContext::publish) turns into its value — so a
//! write is followed by its publish by construction. This port is the outbox's read side:
//! what the sweeper republishes when a function died (or the bus failed) between its write
//! and its publish.

use async_trait::async_trait;
use uuid::Uuid;

use super::StoreError;
use crate::domain::Envelope;

/// A write that committed: its answer, and the outbox entries it wrote in the same
/// transaction, which are still to be published. The answer comes out through
/// [`AppContext::publish`](crate::app::AppContext::publish), which publishes the entries
/// first; a write nobody publishes is a compile-time warning (`must_use`, denied in CI)
/// and, failing that, the sweeper's.
#[must_use = "a committed write's outbox is published by `ctx.publish(committed)`, which answers its value"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed<T> {
    value: T,
    outbox: Vec<Envelope>,
}

impl<T> Committed<T> {
    /// `value`, answered by a write that stored `outbox` with it.
    pub fn new(value: T, outbox: Vec<Envelope>) -> Self {
        Self { value, outbox }
    }

    /// What the write stored in the outbox, in order.
    pub fn outbox(&self) -> &[Envelope] {
        &self.outbox
    }

    /// The value and the entries, for [`AppContext::publish`](crate::app::AppContext::publish).
    pub(crate) fn into_parts(self) -> (T, Vec<Envelope>) {
        (self.value, self.outbox)
    }

    /// The value, leaving the entries to the outbox sweeper: for a writer without a bus
    /// (the operator's `create-admin`) and for tests of the stores.
    pub fn unpublished(self) -> T {
        self.value
    }
}

/// Outbox entries written by the other ports' writes, until marked published.
#[async_trait]
pub trait Outbox: Send + Sync {
    /// Up to `limit` entries not yet marked published, oldest first.
    async fn unpublished(&self, limit: usize) -> Result<Vec<Envelope>, StoreError>;

    /// Forgets the entries with these envelope ids: they reached the bus.
    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError>;
}
