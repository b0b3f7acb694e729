//! Pure domain: entities, validation, state and the events they emit. No I/O.

pub mod domain_event;
pub mod error;
pub mod event;
pub mod projection;
pub mod registration;
pub mod user;
pub mod validate;

pub use domain_event::{DomainEvent, Envelope};
pub use error::{DomainError, FieldError};
pub use event::{Event, EventStatus, NewEvent};
pub use projection::{sortable_time, EventReport, EventStats, ProjectionChange, StatsDelta};
pub use registration::{cancellation_events, NewRegistration, Registration, RegistrationStatus};
pub use user::{Role, Signup, User};
