//! Events on the write side: created, read, updated (PUT, cancellation) by their organizer.

use async_trait::async_trait;

use super::{Committed, StoreError};
use crate::domain::{Envelope, Event, EventId};

/// Why an update was refused.
#[derive(Debug, thiserror::Error)]
pub enum UpdateEventError {
    /// The new capacity is below the seats already taken (decided by the database, in the
    /// update's own condition, so a concurrent registration cannot slip in between).
    #[error("{confirmed} seats are taken, more than the new capacity")]
    CapacityBelowConfirmed {
        /// Seats taken when the update was refused.
        confirmed: u32,
    },
    /// Any other refusal or failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Events (the things people register for) with their seat counters.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Creates `event` with no seat taken, with `outbox`, atomically.
    /// Fails with [`StoreError::SlugTaken`] when another event has its slug.
    async fn create_event(
        &self,
        event: &Event,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError>;

    /// The event with this id, read strongly consistent.
    async fn event(&self, id: EventId) -> Result<Option<Event>, StoreError>;

    /// The event whose slug is `slug` now (a slug released by a rename names nothing),
    /// read strongly consistent.
    async fn event_by_slug(&self, slug: &str) -> Result<Option<Event>, StoreError>;

    /// Replaces the stored event's fields with `event`'s (the seat and waitlist counters
    /// stay), with `outbox`, atomically, on condition that the event exists and
    /// `confirmed <= event.max_capacity`. A new slug releases the old one and takes the new
    /// one in the same step. Fails with [`StoreError::EventNotFound`],
    /// [`StoreError::SlugTaken`] or [`UpdateEventError::CapacityBelowConfirmed`].
    async fn update_event(
        &self,
        event: &Event,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, UpdateEventError>;

    /// Seats taken (confirmed or checked in) as the write side's counter holds them.
    /// Fails with [`StoreError::EventNotFound`].
    async fn confirmed_count(&self, id: EventId) -> Result<u32, StoreError>;
}
