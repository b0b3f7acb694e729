//! Pure domain: entities, validation, state machines and the domain events they emit.
//! No I/O: nothing here awaits, reads a clock or touches a store; callers pass time in.

pub mod calendar;
pub mod domain_event;
pub mod error;
pub mod event;
pub mod ids;
pub mod payment;
pub mod projection;
pub mod registration;
pub mod user;
pub mod validate;

pub use calendar::sortable_time;
pub use domain_event::{DomainEvent, DomainEventKind, Envelope};
pub use error::{DomainError, FieldError, Refusal};
pub use event::{Event, EventStatus, NewEvent};
pub use ids::{EventId, RegistrationId, UserId};
pub use payment::{
    Checkout, Hold, Payment, PaymentOutcome, Promotion, RefundMismatch, RefundPolicy, RefundReason,
    RefundRecord,
};
pub use projection::{
    EventReport, EventStats, MoneyDelta, MoneyTotals, ProjectionChange, StatsDelta,
};
pub use registration::{
    cancellation_events, expiry_events, promotion_event, revocations_resume, DetailsChange,
    NewRegistration, Registration, RegistrationStatus, Release, Revocation, REVOCATION_SETTLE,
};
pub use user::{Role, Signup, User};
