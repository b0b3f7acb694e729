use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::event::Event;
use super::registration::{Registration, RegistrationStatus};

/// Something that happened, published on the bus after the write that caused it commits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum DomainEvent {
    UserSignedUp {
        user_id: Uuid,
    },
    /// Someone asked to reset this account's password. `token` is the raw one-time token:
    /// it travels only in this event (outbox, bus) and the email; the store keeps its hash.
    PasswordResetRequested {
        user_id: Uuid,
        email: String,
        token: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    EventCreated {
        event: Event,
    },
    /// The event after a full update (PUT) by its owner or an admin.
    EventUpdated {
        event: Event,
    },
    /// An admin cancelled the event; `event` is it as cancelled. Every registrant is mailed.
    EventCancelled {
        event: Event,
    },
    /// The email worker's own follow-up while telling a cancelled event's registrants: the
    /// next page starts after `cursor` (the registrations listing's cursor), so no single
    /// invocation mails more than one page.
    EventCancellationNoticesPending {
        event_id: Uuid,
        cursor: String,
    },
    RegistrationConfirmed {
        registration: Registration,
    },
    RegistrationWaitlisted {
        registration: Registration,
    },
    /// A waitlisted registration took a released seat; `registration` is now confirmed.
    RegistrationPromoted {
        registration: Registration,
    },
    /// `previous` is the status the registration left, so the projection knows which
    /// counter to take it from.
    RegistrationCancelled {
        registration: Registration,
        previous: RegistrationStatus,
    },
    /// The signed ticket exists: `ticket` is the QR payload, `blob_key` the PNG.
    TicketIssued {
        registration: Registration,
        ticket: String,
        blob_key: String,
        /// Issued for a seat that came off the waitlist (the email says so).
        promoted: bool,
    },
    CheckedIn {
        registration_id: Uuid,
        event_id: Uuid,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEvent {
    /// The SNS `type` message attribute the queues' filter policies match on.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::UserSignedUp { .. } => "UserSignedUp",
            Self::PasswordResetRequested { .. } => "PasswordResetRequested",
            Self::EventCreated { .. } => "EventCreated",
            Self::EventUpdated { .. } => "EventUpdated",
            Self::EventCancelled { .. } => "EventCancelled",
            Self::EventCancellationNoticesPending { .. } => "EventCancellationNoticesPending",
            Self::RegistrationConfirmed { .. } => "RegistrationConfirmed",
            Self::RegistrationWaitlisted { .. } => "RegistrationWaitlisted",
            Self::RegistrationPromoted { .. } => "RegistrationPromoted",
            Self::RegistrationCancelled { .. } => "RegistrationCancelled",
            Self::TicketIssued { .. } => "TicketIssued",
            Self::CheckedIn { .. } => "CheckedIn",
        }
    }
}

/// A domain event with the identity consumers deduplicate on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub event: DomainEvent,
}

impl Envelope {
    pub fn new(event: DomainEvent, occurred_at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at,
            event,
        }
    }

    pub fn type_name(&self) -> &'static str {
        self.event.type_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_attribute_matches_the_serialized_tag() {
        let envelope = Envelope::new(
            DomainEvent::UserSignedUp {
                user_id: Uuid::nil(),
            },
            OffsetDateTime::UNIX_EPOCH,
        );
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["event"]["type"], envelope.type_name());
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, envelope);
    }
}
