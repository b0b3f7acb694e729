//! Domain values for tests: one definition of each, shared by every test file. Adjust a
//! fixture with struct update syntax (`Event { max_capacity: 3, ..event("x") }`).

use evreg::domain::{
    DomainEvent, Envelope, Event, EventId, EventStatus, Promotion, RefundPolicy, Registration,
    RegistrationId, RegistrationStatus, Release, Role, User, UserId,
};
use time::{Duration, OffsetDateTime};

/// Now, to the second: what the stores round-trip exactly.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds are valid")
}

/// A unique address at example.org, starting with `prefix`.
pub fn unique_email(prefix: &str) -> String {
    format!("{prefix}-{}@example.org", uuid::Uuid::new_v4().simple())
}

/// An active ORGANIZER with `email` and a stand-in password hash.
pub fn user(email: &str) -> User {
    User {
        id: UserId::now_v7(),
        email: email.to_owned(),
        password_hash: "$argon2id$stub".into(),
        role: Role::Organizer,
        active: true,
        created_at: now(),
    }
}

/// A published event named `name`, 10 seats, no waitlist, free, 30 days ahead, at
/// "Hall A", with a unique slug and a new owner.
pub fn event(name: &str) -> Event {
    let id = EventId::now_v7();
    Event {
        id,
        owner_id: UserId::now_v7(),
        name: name.into(),
        slug: format!("ev-{}", id.as_uuid().simple()),
        description: "An evening of talks".into(),
        date: now() + Duration::days(30),
        end_date: None,
        venue: "Hall A".into(),
        timezone: chrono_tz::Tz::UTC,
        max_capacity: 10,
        price_cents: 0,
        currency: "EUR".into(),
        status: EventStatus::Published,
        waitlist_enabled: false,
        payment_window_minutes: 30,
        offer_window_minutes: 720,
        refund_policy: RefundPolicy::default(),
        created_at: now(),
    }
}

/// A confirmed registration of `email` for `event_id`, made now.
pub fn registration(event_id: EventId, email: &str) -> Registration {
    Registration {
        id: RegistrationId::now_v7(),
        event_id,
        email: email.to_owned(),
        full_name: "Ann Lee".into(),
        phone: None,
        status: RegistrationStatus::Confirmed,
        created_at: now(),
        checked_in_at: None,
        hold: None,
        payment: None,
        cancelled_at: None,
    }
}

/// The outbox of taking `registration`'s seat: its RegistrationConfirmed.
pub fn confirmed(registration: &Registration) -> Vec<Envelope> {
    vec![Envelope::new(
        DomainEvent::RegistrationConfirmed {
            registration: registration.clone(),
        },
        registration.created_at,
    )]
}

/// How a free event releases a seat: to the head of the waitlist at once, no refund.
pub fn free_release() -> Release {
    Release {
        promotion: Promotion::Confirm,
        refund: false,
    }
}
