//! The boundary between the domain and the world: traits at the domain's level, one
//! implementation per mode (AWS, embedded).

use std::error::Error as StdError;

mod events;
mod identity;
mod users;
pub use events::{EventStore, UpdateEventError};
pub use identity::{IdentityStore, RefreshToken, Rotation};
pub use users::{UserChange, UserStore};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::domain::{
    Envelope, Event, EventReport, EventStats, ProjectionChange, Registration, RegistrationStatus,
    User,
};

pub type BoxError = Box<dyn StdError + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("an event with this slug already exists")]
    SlugTaken,
    #[error("no such event")]
    EventNotFound,
    #[error("the event is not open for registration")]
    EventNotOpen,
    #[error("the event is full")]
    EventFull,
    #[error("this email is already registered for the event")]
    DuplicateRegistration,
    /// A waitlisting found a free seat (one was released meanwhile): take the seat instead.
    #[error("a seat is available")]
    SeatAvailable,
    #[error("no such registration")]
    RegistrationNotFound,
    #[error("the registration is already cancelled")]
    AlreadyCancelled,
    /// Carries the first scan's time, which the door staff are shown.
    #[error("the attendee checked in already")]
    AlreadyCheckedIn(OffsetDateTime),
    #[error("the registration is cancelled")]
    RegistrationCancelled,
    #[error("the registration holds no seat")]
    NotConfirmed,
    /// Too many concurrent changes to one event for the bounded retries.
    #[error("too many concurrent changes")]
    Contended,
    #[error("the pagination cursor is not valid")]
    InvalidCursor,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

#[derive(Debug, thiserror::Error)]
#[error("publishing domain events failed")]
pub struct BusError(#[source] pub BoxError);

/// What a cancellation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub cancelled: Registration,
    /// The waitlisted registration that took the released seat, now confirmed.
    pub promoted: Option<Registration>,
    /// What was written to the outbox, for the caller to publish.
    pub events: Vec<Envelope>,
}

/// Why `registration` cannot be cancelled, if it cannot: one reading of the state for
/// every adapter (each still guards the write with its own condition).
pub fn refuse_uncancellable(registration: &Registration) -> Result<(), StoreError> {
    match (registration.status, registration.checked_in_at) {
        (RegistrationStatus::Cancelled, _) => Err(StoreError::AlreadyCancelled),
        (RegistrationStatus::CheckedIn, Some(at)) => Err(StoreError::AlreadyCheckedIn(at)),
        _ if registration.cancellable() => Ok(()),
        _ => Err(StoreError::Corrupt(format!(
            "registration {} is {:?} without a check-in time",
            registration.id, registration.status
        ))),
    }
}

/// Why `registration` cannot be checked in, if it cannot.
pub fn refuse_check_in(registration: &Registration) -> Result<(), StoreError> {
    match (registration.status, registration.checked_in_at) {
        (RegistrationStatus::Confirmed, _) => Ok(()),
        (RegistrationStatus::CheckedIn, Some(at)) => Err(StoreError::AlreadyCheckedIn(at)),
        (RegistrationStatus::Cancelled, _) => Err(StoreError::RegistrationCancelled),
        (RegistrationStatus::Waitlisted | RegistrationStatus::PendingPayment, _) => {
            Err(StoreError::NotConfirmed)
        }
        (RegistrationStatus::CheckedIn, None) => Err(StoreError::Corrupt(format!(
            "registration {} is checked in without a time",
            registration.id
        ))),
    }
}

/// The state of an idempotency key when claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller runs the operation, then calls `complete` or `release`.
    Acquired,
    /// Another execution holds the key and has not finished.
    InFlight { fingerprint: String },
    /// It ran: a retry answers with `outcome`, if the fingerprints agree.
    Completed {
        fingerprint: String,
        outcome: String,
    },
}

/// A page of a listing; `next_cursor` is opaque to everyone but the adapter that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The write side. Every method that changes state also records `events` in the outbox
/// in the same transaction, so an event exists exactly when its write committed.
#[async_trait]
pub trait Store: IdentityStore + UserStore + EventStore + Send + Sync {
    /// Fails with [`StoreError::EmailTaken`] when the normalized email is in use.
    async fn create_user(&self, user: &User, events: &[Envelope]) -> Result<(), StoreError>;
    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError>;
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Fails with [`StoreError::SlugTaken`] when the slug is in use.
    async fn create_event(&self, event: &Event, events: &[Envelope]) -> Result<(), StoreError>;
    async fn event(&self, id: Uuid) -> Result<Option<Event>, StoreError>;

    /// Takes one seat of a published event for a confirmed registration, atomically:
    /// [`StoreError::EventFull`] when no seat is left, [`StoreError::DuplicateRegistration`]
    /// when the (event, email) pair exists, [`StoreError::EventNotFound`] /
    /// [`StoreError::EventNotOpen`] otherwise.
    async fn register(
        &self,
        registration: &Registration,
        events: &[Envelope],
    ) -> Result<(), StoreError>;
    /// Queues a registration on a published event that is full and has its waitlist on,
    /// atomically: [`StoreError::EventFull`] when the waitlist is off,
    /// [`StoreError::SeatAvailable`] when a seat is free after all,
    /// [`StoreError::DuplicateRegistration`], [`StoreError::EventNotFound`] and
    /// [`StoreError::EventNotOpen`] as for [`Store::register`].
    async fn waitlist(
        &self,
        registration: &Registration,
        events: &[Envelope],
    ) -> Result<(), StoreError>;
    async fn registration(&self, id: Uuid) -> Result<Option<Registration>, StoreError>;
    /// Seats taken, as the write side's counter knows it.
    async fn confirmed_count(&self, event_id: Uuid) -> Result<u32, StoreError>;

    /// Cancels a confirmed or waitlisted registration. When it held a seat and someone is
    /// waitlisted, the first of them (FIFO) takes the seat in the same transaction, so
    /// the seat is never free for a newcomer to take. Writes [`cancellation_events`].
    /// Fails with [`StoreError::RegistrationNotFound`], [`StoreError::AlreadyCancelled`],
    /// [`StoreError::AlreadyCheckedIn`], or [`StoreError::Contended`].
    ///
    /// [`cancellation_events`]: crate::domain::cancellation_events
    async fn cancel(&self, id: Uuid, at: OffsetDateTime) -> Result<Cancellation, StoreError>;
    /// Records the first scan of a confirmed registration of `event_id`, atomically, with
    /// `events`; returns the registration as checked in. Fails with
    /// [`StoreError::AlreadyCheckedIn`] (the first scan's time),
    /// [`StoreError::RegistrationCancelled`], [`StoreError::NotConfirmed`] or
    /// [`StoreError::RegistrationNotFound`] (also for another event's registration).
    async fn check_in(
        &self,
        id: Uuid,
        event_id: Uuid,
        at: OffsetDateTime,
        events: &[Envelope],
    ) -> Result<Registration, StoreError>;
    /// Stores the ticket of a confirmed registration once, with `events`: false (and
    /// nothing written) when it has one already or holds no seat any more.
    async fn record_ticket(
        &self,
        id: Uuid,
        ticket: &str,
        events: &[Envelope],
    ) -> Result<bool, StoreError>;
    /// The stored ticket payload of a registration, if issued.
    async fn ticket(&self, id: Uuid) -> Result<Option<String>, StoreError>;
    /// An event's registrations in the order they were made.
    async fn registrations(
        &self,
        event_id: Uuid,
        status: Option<RegistrationStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Registration>, StoreError>;

    /// Claims `key` for one execution (an `Idempotency-Key`, or a consumer's event id):
    /// see [`Claim`]. An in-flight claim older than `lease` is presumed dead and taken
    /// over; every record is forgotten after `ttl`.
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError>;
    /// Stores the outcome of a claimed execution for the key's later claimants.
    async fn complete(&self, key: &str, outcome: &str) -> Result<(), StoreError>;
    /// Drops an in-flight claim whose execution failed, so that a retry runs it again.
    async fn release(&self, key: &str) -> Result<(), StoreError>;

    /// Outbox entries not yet marked published, oldest first.
    async fn unpublished(&self, limit: usize) -> Result<Vec<Envelope>, StoreError>;
    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError>;
}

/// The CQRS read side, written only by the projection worker.
#[async_trait]
pub trait ReadModel: Send + Sync {
    /// Applies `change` once per `dedupe_id`: returns false, changing nothing, when that
    /// id was applied before (at-least-once delivery).
    async fn apply(&self, dedupe_id: Uuid, change: &ProjectionChange) -> Result<bool, StoreError>;
    async fn stats(&self, event_id: Uuid) -> Result<EventStats, StoreError>;
    /// Published events matching `query`, in its order. The cursor is the adapter's; the
    /// route signs it before it leaves the API.
    async fn listings(
        &self,
        query: &ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError>;
    /// The counters and registrations per day of one event.
    async fn report(&self, event_id: Uuid) -> Result<EventReport, StoreError>;
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListingOrder {
    /// By event date, soonest first.
    #[default]
    Date,
    /// By creation time, newest first.
    Newest,
}

/// The filters of `GET /events`; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingQuery {
    /// Events on or after this time.
    pub from: Option<OffsetDateTime>,
    /// Events on or before this time.
    pub to: Option<OffsetDateTime>,
    /// The venue, compared case-insensitively.
    pub venue: Option<String>,
    /// Text in the name or description, case-insensitively.
    pub text: Option<String>,
    pub order: ListingOrder,
}

/// The form in which adapters store and compare text for [`ListingQuery`]: Unicode lower
/// case, so both adapters (and SQLite, whose `lower()` is ASCII-only) agree.
pub fn search_key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// Where ticket images live (S3; files under `.local/` in embedded mode).
#[async_trait]
pub trait Blobs: Send + Sync {
    /// Writes `bytes` under `key`, replacing what was there: writing the same ticket twice
    /// is harmless, which keeps the tickets worker idempotent.
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError>;
}

#[derive(Debug, thiserror::Error)]
#[error("blob storage failed")]
pub struct BlobError(#[source] pub BoxError);

/// An email as the domain writes it; adapters turn it into MIME and send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    /// Set for images the HTML part shows inline (`<img src="cid:…">`).
    pub content_id: Option<String>,
    pub bytes: Vec<u8>,
}

/// Sends mail (SES v2; `.eml` files under `.local/mail/` in embedded mode).
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

#[derive(Debug, thiserror::Error)]
#[error("sending mail failed")]
pub struct MailError(#[source] pub BoxError);

/// The CDN in front of the public API (CloudFront; a log line in embedded mode).
#[async_trait]
pub trait Cdn: Send + Sync {
    /// Invalidates `paths`. The same `caller_reference` names the same invalidation, so a
    /// retried message does not start a second one.
    async fn invalidate(&self, paths: &[String], caller_reference: &str) -> Result<(), CdnError>;
}

#[derive(Debug, thiserror::Error)]
#[error("invalidating the CDN failed")]
pub struct CdnError(#[source] pub BoxError);

/// Publishes domain events to every subscribed consumer (SNS topic → SQS queues).
#[async_trait]
pub trait Bus: Send + Sync {
    async fn publish(&self, events: &[Envelope]) -> Result<(), BusError>;
}

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
