//! Registrations on the write side: taking a seat or a waitlist place, cancelling with FIFO
//! promotion, check-in at the door, tickets, the per-event listing and revocation list.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Committed, Page, StoreError};
use crate::domain::{
    Envelope, EventId, Promotion, Registration, RegistrationId, RegistrationStatus, Release,
    Revocation,
};

/// What a cancellation (or a lapsed hold's release) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    /// The registration, now CANCELLED.
    pub cancelled: Registration,
    /// The waitlisted registration that took the released seat, now CONFIRMED (or
    /// PENDING_PAYMENT with an offer, on a paid event).
    pub promoted: Option<Registration>,
}

/// One attendee's place at one event, from registration to the door.
#[async_trait]
pub trait RegistrationStore: Send + Sync {
    /// Takes one seat of a published event for `registration` (CONFIRMED, or
    /// PENDING_PAYMENT holding it on a paid event), with `outbox`, atomically:
    /// [`StoreError::EventFull`] when no seat is left or someone is waitlisted for one (a
    /// newcomer never takes a seat ahead of the queue),
    /// [`StoreError::DuplicateRegistration`] when the email has a live registration for
    /// the event, [`StoreError::EventNotFound`] / [`StoreError::EventNotOpen`] otherwise.
    async fn register(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError>;

    /// Queues `registration` (WAITLISTED) on a published event with its waitlist on that is
    /// full or already has a queue, with `outbox`, atomically: [`StoreError::EventFull`]
    /// when the waitlist is off, [`StoreError::SeatAvailable`] when a seat is free and
    /// nobody waits after all, and the other refusals of [`RegistrationStore::register`].
    async fn waitlist(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError>;

    /// The registration with this id, read strongly consistent.
    async fn registration(&self, id: RegistrationId) -> Result<Option<Registration>, StoreError>;

    /// Cancels a live registration at `at`. When it held a seat and someone is waitlisted,
    /// the first of them (FIFO) takes the seat in the same transaction as `release` says
    /// (confirmed, or offered on a paid event), so the seat is never free for a newcomer.
    /// Writes [`crate::domain::cancellation_events`] to the outbox (a refund request when
    /// `release.refund` and it was paid). Fails with [`StoreError::RegistrationNotFound`],
    /// a [`Refusal`](crate::domain::Refusal) (`AlreadyCancelled`, `AlreadyCheckedIn`), or
    /// [`StoreError::Contended`].
    async fn cancel(
        &self,
        id: RegistrationId,
        at: OffsetDateTime,
        release: &Release,
    ) -> Result<Committed<Cancellation>, StoreError>;

    /// Gives one free seat of `event_id` to the head of its waitlist as `promotion` says,
    /// atomically with its promotion event in the outbox (after a capacity raise); answers
    /// the registration promoted, now CONFIRMED (or PENDING_PAYMENT with an offer). `None`
    /// when no seat is free or nobody waits. Fails with [`StoreError::Contended`].
    async fn promote(
        &self,
        event_id: EventId,
        promotion: &Promotion,
        at: OffsetDateTime,
    ) -> Result<Option<Committed<Registration>>, StoreError>;

    /// Replaces the `full_name` and `phone` of a live registration with `updated`'s, with
    /// `outbox` (RegistrationUpdated), atomically; returns it as stored. Fails with
    /// [`StoreError::RegistrationNotFound`] or a refusal when it is cancelled.
    async fn update_details(
        &self,
        updated: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError>;

    /// Records the first scan (at `at`) of a confirmed registration of `event_id`, with
    /// `outbox`, atomically; returns it as checked in. Fails with a [`Refusal`](crate::domain::Refusal)
    /// (`AlreadyCheckedIn` with the first scan's time, `Cancelled`, `NotConfirmed`) or
    /// [`StoreError::RegistrationNotFound`] (also for another event's registration).
    async fn check_in(
        &self,
        id: RegistrationId,
        event_id: EventId,
        at: OffsetDateTime,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError>;

    /// Stores the ticket (its QR payload) of a confirmed registration once, with `outbox`:
    /// false, and nothing written, when it has one already, holds no seat any more, or its
    /// event is no longer PUBLISHED (a cancelled event issues no tickets).
    async fn record_ticket(
        &self,
        registration: &Registration,
        ticket: &str,
        outbox: &[Envelope],
    ) -> Result<Committed<bool>, StoreError>;

    /// The stored ticket payload of a registration, if issued.
    async fn ticket(&self, id: RegistrationId) -> Result<Option<String>, StoreError>;

    /// An event's registrations in the order they were made, `limit` at a time, only
    /// those in `status` when given. Fails with [`StoreError::InvalidCursor`].
    async fn registrations(
        &self,
        event_id: EventId,
        status: Option<RegistrationStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Registration>, StoreError>;

    /// The event's revocation list: its cancelled registrations in (`revoked_at`,
    /// `registration_id`) order, those strictly after `after` (all when `None`), at most
    /// `limit`. Read strongly consistent where the store can (SQLite); DynamoDB reads it
    /// from an index, which lags writes by a fraction of a second: the route's cursor
    /// rewinds enough to cover both that and cancellations still committing.
    async fn revocations(
        &self,
        event_id: EventId,
        after: Option<Revocation>,
        limit: usize,
    ) -> Result<Vec<Revocation>, StoreError>;
}
