//! Application services: what several entrances do the same way — the JSON routes, the
//! pages' forms, the workers, the schedules — written once over the ports. Each reads the
//! domain's decision, writes it through a port (whose outbox is published by
//! [`AppContext::publish`](crate::app::AppContext::publish)) and answers in domain terms:
//! values, or a [`ServiceError`]. HTTP is the routes' business: an
//! [`ApiError`](crate::http::ApiError) is made from a `ServiceError` at the edge only.
//!
//! - [`registrations`]: taking a seat or a waitlist place, cancelling, changing details,
//!   filling freed seats from the waitlist;
//! - [`checkout`]: opening the provider's checkout for a held seat;
//! - [`events`]: storing an organizer's change to an event;
//! - [`payments`]: what the provider reports (the webhook's events), acted on once;
//! - [`once`]: the once-only protocol every entrance's idempotency runs through.

pub mod checkout;
pub mod events;
pub mod once;
pub mod payments;
pub mod registrations;

use crate::domain::{DomainError, Refusal};
use crate::ports::{PaymentsError, StoreError};

/// Why a service did not do what it was asked. Every variant is a decision or a failure
/// the caller can tell apart without knowing how it is transported.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// One or more fields are invalid.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The thing named does not exist, or is not the caller's to see (a draft event).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The state of the registration or event refuses the action.
    #[error(transparent)]
    Refused(Refusal),
    /// An event's new capacity is below the seats already taken (decided by the store's
    /// own condition).
    #[error("{confirmed} seats are taken; the capacity cannot be lower")]
    CapacityBelowTaken {
        /// Seats taken when the change was refused.
        confirmed: u32,
    },
    /// The same once-only work runs elsewhere now; the caller retries after a moment.
    #[error("the same request is being handled elsewhere; retry shortly")]
    InProgress,
    /// Lost too many races for one event's seats in a row; the caller retries.
    #[error("too many concurrent changes; retry shortly")]
    Busy,
    /// No checkout could be opened for a seat being taken (the provider failed); the seat
    /// was released.
    #[error("the payment provider is unavailable")]
    PaymentProviderUnavailable,
    /// The payment provider failed (outside a registration: a checkout for an offer, a
    /// refund); the caller retries.
    #[error(transparent)]
    Provider(#[from] PaymentsError),
    /// The store refused (taken, full, duplicate, not found) or failed.
    #[error(transparent)]
    Store(StoreError),
}

impl ServiceError {
    /// Whether this is a failure to retry (a dependency, a race lost too often) rather
    /// than a decision about the request.
    pub fn is_failure(&self) -> bool {
        match self {
            Self::Busy
            | Self::InProgress
            | Self::PaymentProviderUnavailable
            | Self::Provider(_) => true,
            Self::Store(error) => matches!(
                error,
                StoreError::Contended
                    | StoreError::SeatAvailable
                    | StoreError::Unavailable(_)
                    | StoreError::Corrupt(_)
            ),
            Self::Invalid(_)
            | Self::NotFound(_)
            | Self::Refused(_)
            | Self::CapacityBelowTaken { .. } => false,
        }
    }
}

impl From<StoreError> for ServiceError {
    /// A state refusal is the domain's and a missing thing is missing, whichever layer
    /// noticed; the rest stays the store's. A draft or cancelled event is no event to the
    /// public.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Refused(refusal) => Self::Refused(refusal),
            StoreError::EventNotFound | StoreError::EventNotOpen => Self::NotFound("event"),
            StoreError::RegistrationNotFound => Self::NotFound("registration"),
            other => Self::Store(other),
        }
    }
}

impl From<Refusal> for ServiceError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}
