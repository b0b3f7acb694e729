use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::error::{DomainError, Violations};
use super::validate::{is_plausible_email, is_present_text, normalize_email};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistrationStatus {
    PendingPayment,
    Confirmed,
    Waitlisted,
    CheckedIn,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: Uuid,
    pub event_id: Uuid,
    /// Normalized: the (event, email) pair is unique.
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub status: RegistrationStatus,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The first scan at the door.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub checked_in_at: Option<OffsetDateTime>,
}

/// A registration request as the API receives it, before validation.
#[derive(Debug, Clone, Deserialize)]
pub struct NewRegistration {
    pub email: String,
    pub full_name: String,
    #[serde(default)]
    pub phone: Option<String>,
}

const MAX_NAME_CHARS: usize = 200;
const MAX_PHONE_CHARS: usize = 32;

impl NewRegistration {
    /// Validates the request into a registration holding a confirmed seat; whether the
    /// seat exists is the store's transaction to decide.
    pub fn confirmed(
        self,
        id: Uuid,
        event_id: Uuid,
        now: OffsetDateTime,
    ) -> Result<Registration, DomainError> {
        let email = normalize_email(&self.email);
        let phone = self
            .phone
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        let mut violations = Violations::default();
        violations.check(
            is_plausible_email(&email),
            "email",
            "must be an email address",
        );
        violations.check(
            is_present_text(&self.full_name, MAX_NAME_CHARS),
            "full_name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        );
        if let Some(phone) = &phone {
            violations.check(
                is_phone(phone),
                "phone",
                format!("must be digits, spaces and + - ( ), at most {MAX_PHONE_CHARS} characters"),
            );
        }
        violations.into_result()?;
        Ok(Registration {
            id,
            event_id,
            email,
            full_name: self.full_name.trim().to_owned(),
            phone,
            status: RegistrationStatus::Confirmed,
            created_at: now,
            checked_in_at: None,
        })
    }
}

impl Registration {
    /// The same request, queued for a seat instead of holding one.
    pub fn waitlisted(&self) -> Self {
        self.with_status(RegistrationStatus::Waitlisted)
    }

    /// This registration with `status`, as a transition writes it.
    pub fn with_status(&self, status: RegistrationStatus) -> Self {
        Self {
            status,
            ..self.clone()
        }
    }

    /// Whether an attendee (or the organizer) may still cancel: a seat used at the door
    /// stays used, and cancelling twice is a conflict, not a no-op.
    pub fn cancellable(&self) -> bool {
        matches!(
            self.status,
            RegistrationStatus::Confirmed
                | RegistrationStatus::Waitlisted
                | RegistrationStatus::PendingPayment
        )
    }

    /// The domain event that records this registration being made.
    pub fn made(&self, at: OffsetDateTime) -> crate::domain::Envelope {
        use crate::domain::DomainEvent;
        let registration = self.clone();
        let event = match self.status {
            RegistrationStatus::Waitlisted => DomainEvent::RegistrationWaitlisted { registration },
            _ => DomainEvent::RegistrationConfirmed { registration },
        };
        crate::domain::Envelope::new(event, at)
    }
}

impl RegistrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "PENDING_PAYMENT",
            Self::Confirmed => "CONFIRMED",
            Self::Waitlisted => "WAITLISTED",
            Self::CheckedIn => "CHECKED_IN",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::PendingPayment,
            Self::Confirmed,
            Self::Waitlisted,
            Self::CheckedIn,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// The events of a cancellation: the cancelled registration (as it was before, so
/// consumers know which counter it left) and the waitlisted one that took its seat.
pub fn cancellation_events(
    before: &Registration,
    promoted: Option<&Registration>,
    at: OffsetDateTime,
) -> Vec<crate::domain::Envelope> {
    use crate::domain::{DomainEvent, Envelope};
    let mut events = vec![Envelope::new(
        DomainEvent::RegistrationCancelled {
            registration: before.with_status(RegistrationStatus::Cancelled),
            previous: before.status,
        },
        at,
    )];
    if let Some(promoted) = promoted {
        events.push(Envelope::new(
            DomainEvent::RegistrationPromoted {
                registration: promoted.with_status(RegistrationStatus::Confirmed),
            },
            at,
        ));
    }
    events
}

fn is_phone(phone: &str) -> bool {
    phone.len() <= MAX_PHONE_CHARS
        && phone.bytes().any(|b| b.is_ascii_digit())
        && phone
            .bytes()
            .all(|b| b.is_ascii_digit() || b" +-()".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(email: &str, full_name: &str, phone: Option<&str>) -> NewRegistration {
        NewRegistration {
            email: email.into(),
            full_name: full_name.into(),
            phone: phone.map(Into::into),
        }
    }

    fn confirm(new: NewRegistration) -> Result<Registration, DomainError> {
        new.confirmed(Uuid::nil(), Uuid::nil(), OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_registration_is_normalized_and_confirmed() {
        let reg = confirm(request(" Ann@X.org", " Ann Lee ", Some(" "))).unwrap();
        assert_eq!(reg.email, "ann@x.org");
        assert_eq!(reg.full_name, "Ann Lee");
        assert_eq!(reg.phone, None);
        assert_eq!(reg.status, RegistrationStatus::Confirmed);
    }

    #[test]
    fn invalid_fields_are_all_reported() {
        let Err(DomainError::Invalid(errors)) = confirm(request("x", "", Some("call me"))) else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "full_name", "phone"]);
    }

    #[test]
    fn statuses_round_trip_their_wire_names() {
        for status in [
            RegistrationStatus::PendingPayment,
            RegistrationStatus::Confirmed,
            RegistrationStatus::Waitlisted,
            RegistrationStatus::CheckedIn,
            RegistrationStatus::Cancelled,
        ] {
            let wire = serde_json::to_value(status).unwrap();
            assert_eq!(wire, status.as_str());
            assert_eq!(RegistrationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RegistrationStatus::parse("confirmed"), None);
    }

    #[test]
    fn only_live_registrations_can_be_cancelled() {
        let reg = confirm(request("a@b.co", "A", None)).unwrap();
        assert!(reg.cancellable());
        assert!(reg.waitlisted().cancellable());
        assert!(!reg.with_status(RegistrationStatus::CheckedIn).cancellable());
        assert!(!reg.with_status(RegistrationStatus::Cancelled).cancellable());
    }

    #[test]
    fn a_cancellation_with_a_promotion_emits_both_events() {
        let seat = confirm(request("a@b.co", "A", None)).unwrap();
        let queued = confirm(request("c@d.co", "C", None)).unwrap().waitlisted();
        let events = cancellation_events(&seat, Some(&queued), OffsetDateTime::UNIX_EPOCH);
        let types: Vec<_> = events.iter().map(|e| e.type_name()).collect();
        assert_eq!(types, ["RegistrationCancelled", "RegistrationPromoted"]);
        let crate::domain::DomainEvent::RegistrationPromoted { registration } = &events[1].event
        else {
            panic!("expected a promotion");
        };
        assert_eq!(registration.status, RegistrationStatus::Confirmed);
    }

    #[test]
    fn phones() {
        assert!(is_phone("+44 (0)20 7946-0958"));
        assert!(!is_phone("+"));
        assert!(!is_phone(&"1".repeat(MAX_PHONE_CHARS + 1)));
    }
}
