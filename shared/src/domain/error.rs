//! What the domain refuses: invalid fields (every one of a request, collected so a client
//! learns all of them at once; a 422 with `errors`) and actions the current state does not
//! allow ([`Refusal`], a 409).

use serde::Serialize;
use time::OffsetDateTime;

/// One invalid field of a request, named as it is on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's wire name (`max_capacity`), or `body` for the request as a whole.
    pub field: &'static str,
    /// What is wrong, for people: `must be between 1 and 1000000`.
    pub message: String,
}

/// Why the domain refused a request.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DomainError {
    /// One or more fields are invalid.
    #[error("invalid input: {}", summarize(.0))]
    Invalid(Vec<FieldError>),
}

fn summarize(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why the state of a registration (or event) refuses an action: cancel, check in. Each
/// is a 409 with its own problem `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Cancelling twice is a conflict, not a no-op.
    #[error("the registration is already cancelled")]
    AlreadyCancelled,
    /// A seat used at the door stays used; carries the first scan's time, which door
    /// staff are shown (`None` only for a record that lost it).
    #[error("the attendee checked in already")]
    AlreadyCheckedIn(Option<OffsetDateTime>),
    /// A cancelled registration admits nobody.
    #[error("the registration is cancelled")]
    Cancelled,
    /// Waitlisted or unpaid: no seat to check in to.
    #[error("the registration holds no seat")]
    NotConfirmed,
    /// The event above the registration is cancelled (or unpublished): its registrations
    /// are neither admitted, changed, cancelled nor paid for.
    #[error("the event is cancelled or not published")]
    EventClosed,
    /// The event is over ([`crate::domain::Event::ends_at`]): nobody registers or checks in.
    #[error("the event has ended")]
    EventEnded,
}

/// Collects every invalid field of a request, so a client learns all of them at once.
#[derive(Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    /// Records `message` against `field` unless `ok`.
    pub fn check(&mut self, ok: bool, field: &'static str, message: impl Into<String>) {
        if !ok {
            self.0.push(FieldError {
                field,
                message: message.into(),
            });
        }
    }

    /// The value of a field's parse, or — its error recorded against `field` — `None`.
    pub fn accept<T, E: std::fmt::Display>(
        &mut self,
        field: &'static str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed
            .map_err(|error| {
                self.0.push(FieldError {
                    field,
                    message: error.to_string(),
                })
            })
            .ok()
    }

    /// `Ok` when nothing was recorded, else every recorded field in order.
    pub fn into_result(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Invalid(self.0))
        }
    }
}
