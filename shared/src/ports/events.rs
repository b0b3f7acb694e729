//! The organizer's side of events on the write table: full updates and cancellation.

use async_trait::async_trait;

use super::StoreError;
use crate::domain::{Envelope, Event};

/// Why an update was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateEventError {
    /// The new capacity is below the seats already taken (decided by the database, in the
    /// update's own condition, so a concurrent registration cannot slip in between).
    #[error("{confirmed} seats are taken, more than the new capacity")]
    CapacityBelowConfirmed { confirmed: u32 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[async_trait]
pub trait EventStore: Send + Sync {
    /// Replaces `event`'s fields (the seat and waitlist counters stay) with `events` in
    /// the outbox, atomically, on condition that the event exists and
    /// `confirmed <= event.max_capacity`. When the slug changed, the old slug's guard is
    /// released and the new one taken in the same transaction.
    /// Fails with [`StoreError::EventNotFound`], [`StoreError::SlugTaken`] or
    /// [`UpdateEventError::CapacityBelowConfirmed`].
    async fn update_event(
        &self,
        event: &Event,
        previous_slug: &str,
        events: &[Envelope],
    ) -> Result<(), UpdateEventError>;
}
