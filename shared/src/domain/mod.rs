//! Pure domain: entities, validation, state machines and the domain events they emit.
//! No I/O: nothing here awaits, reads a clock or touches a store; callers pass time in.
//!
//! Files import downwards only: `payment.rs` (money, holds) ← `event.rs`, `registration.rs`
//! (the entities and their transitions) ← `domain_event.rs` (the events, which carry the
//! entities) ← `emits.rs` (which events each registration transition writes: the one
//! `impl Registration` block outside `registration.rs`) ← `projection.rs`.

pub mod calendar;
pub mod domain_event;
pub mod emits;
pub mod error;
pub mod event;
#[cfg(test)]
mod fixtures;
pub mod ids;
pub mod payment;
pub mod projection;
pub mod registration;
pub mod user;
pub mod validate;

pub use calendar::sortable_time;
pub use domain_event::{DomainEvent, DomainEventKind, Envelope};
pub use emits::{cancellation_events, expiry_events, promotion_event};
pub use error::{DomainError, FieldError, Refusal};
pub use event::{Event, EventStatus, NewEvent};
pub use ids::{EventId, RegistrationId, UserId};
pub use payment::{
    Checkout, Hold, Payment, Promotion, RefundMismatch, RefundPolicy, RefundReason, RefundRecord,
};
pub use projection::{
    EventReport, EventStats, MoneyDelta, MoneyTotals, ProjectionChange, StatsDelta,
};
pub use registration::{
    revocations_resume, DetailsChange, NewRegistration, PaymentOutcome, Registration,
    RegistrationStatus, Release, Revocation, REVOCATION_SETTLE,
};
pub use user::{Role, Signup, User};
