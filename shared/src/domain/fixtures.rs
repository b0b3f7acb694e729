//! Test fixtures the domain's unit tests share: a paid event, a seat held on it, a payment.

use time::macros::datetime;
use time::OffsetDateTime;

use super::{
    Event, EventId, EventStatus, Payment, RefundPolicy, Registration, RegistrationId,
    RegistrationStatus, UserId,
};

/// A published event on 1 March 2027 18:00 UTC with 10 seats at `price_cents` EUR.
pub(crate) fn event(price_cents: u64) -> Event {
    Event {
        id: EventId::now_v7(),
        owner_id: UserId::now_v7(),
        name: "Paid".into(),
        slug: "paid".into(),
        description: String::new(),
        date: datetime!(2027-03-01 18:00 UTC),
        end_date: None,
        venue: "Hall".into(),
        timezone: chrono_tz::Tz::UTC,
        max_capacity: 10,
        price_cents,
        currency: "EUR".into(),
        status: EventStatus::Published,
        waitlist_enabled: true,
        payment_window_minutes: 30,
        offer_window_minutes: 720,
        refund_policy: RefundPolicy::default(),
        created_at: datetime!(2027-01-01 0:00 UTC),
    }
}

/// Ann's seat on `paid_event`, held for payment since `now`.
pub(crate) fn held(paid_event: &Event, now: OffsetDateTime) -> Registration {
    Registration {
        id: RegistrationId::now_v7(),
        event_id: paid_event.id,
        email: "ann@example.org".into(),
        full_name: "Ann Lee".into(),
        phone: None,
        status: RegistrationStatus::PendingPayment,
        created_at: now,
        checked_in_at: None,
        hold: paid_event.hold_at(now),
        payment: None,
        cancelled_at: None,
    }
}

/// A payment `pi_1` of `amount_cents` EUR on 1 February 2027.
pub(crate) fn payment(amount_cents: u64) -> Payment {
    Payment {
        payment_id: "pi_1".into(),
        amount_cents,
        currency: "EUR".into(),
        paid_at: datetime!(2027-02-01 12:10 UTC),
        refunded_cents: 0,
        refund_ids: Vec::new(),
    }
}
