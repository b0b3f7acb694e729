//! The boundary between the domain and the world: one trait per aggregate or service, at
//! the domain's level, each implemented once per mode (`adapters::aws`,
//! `adapters::embedded`). Handlers name the port they use (`ctx.registrations.cancel(..)`).
//!
//! Every write that changes state stores the domain events it causes in the same
//! transaction (the transactional outbox: an event exists exactly when its write
//! committed), taking them as `outbox: &[Envelope]` or deciding them itself, and answers a
//! [`Committed`] write, whose value only the publish of those events hands out; the
//! [`Outbox`] is what the sweeper republishes should that publish fail.

mod blobs;
mod bus;
mod cdn;
mod clock;
mod events;
mod idempotency;
mod identity;
mod mailer;
mod outbox;
mod payment_store;
mod payments;
mod read_model;
mod registrations;
mod users;

pub use blobs::{BlobError, Blobs};
pub use bus::{Bus, BusError};
pub use cdn::{Cdn, CdnError};
pub use clock::{Clock, SystemClock};
pub use events::{EventStore, UpdateEventError};
pub use idempotency::{Claim, IdempotencyStore};
pub use identity::{IdentityStore, RefreshToken, Rotation};
pub use mailer::{Attachment, Mail, MailError, Mailer};
pub use outbox::{Committed, Outbox};
pub use payment_store::PaymentStore;
pub use payments::{
    CheckoutRequest, Payments, PaymentsError, WebhookError, WebhookEvent, WebhookKind,
};
pub use read_model::{search_key, ListingOrder, ListingQuery, ReadModel};
pub use registrations::{Cancellation, RegistrationStore};
pub use users::{UserChange, UserStore};

use crate::domain::Refusal;

/// Any error, boxed: the source of the `Unavailable`-style variants and of what process
/// entry points return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a store refused or failed an operation. Refusals (taken, full, not found, …) are
/// decided by the database's own conditions and map to 4xx; `Contended` and
/// `Unavailable` are 503s to retry, `Corrupt` a 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another account has this (normalized) email.
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Another event has this slug.
    #[error("an event with this slug already exists")]
    SlugTaken,
    /// No event has this id.
    #[error("no such event")]
    EventNotFound,
    /// The event is a draft or cancelled.
    #[error("the event is not open for registration")]
    EventNotOpen,
    /// No seat is left, and no waitlist takes the registration.
    #[error("the event is full")]
    EventFull,
    /// The email has a live registration for the event.
    #[error("this email is already registered for the event")]
    DuplicateRegistration,
    /// A waitlisting found a free seat (one was released meanwhile): take the seat instead.
    #[error("a seat is available")]
    SeatAvailable,
    /// No registration has this id (for this event).
    #[error("no such registration")]
    RegistrationNotFound,
    /// The registration's state refuses the action (see [`Refusal`]).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// Too many concurrent changes to one event for the bounded retries.
    #[error("too many concurrent changes")]
    Contended,
    /// A pagination cursor this store did not make.
    #[error("the pagination cursor is not valid")]
    InvalidCursor,
    /// Stored data does not read back as what was written.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database could not be reached, failed, or throttled the request past the SDK's
    /// retries; the caller may retry.
    #[error("the store is unavailable")]
    Unavailable(#[source] BoxError),
}

/// A page of a listing, `{"items": […], "next_cursor": …}` on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// At most the page size asked for, in the listing's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page. Opaque to everyone but the
    /// adapter that made it.
    pub next_cursor: Option<String>,
}
