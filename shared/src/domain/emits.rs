//! What each change emits: the domain events a registration's transitions write to the
//! outbox in the transaction that makes them. Here rather than beside the transitions in
//! `registration.rs` because the events carry the entities (`domain_event.rs` imports
//! `registration.rs`), so the entities' files import no event; this file sits above both.

use time::OffsetDateTime;

use super::domain_event::{DomainEvent, Envelope};
use super::payment::{Payment, RefundReason};
use super::registration::{PaymentOutcome, Registration, RegistrationStatus};

impl Registration {
    /// The domain event that records this registration being made.
    pub fn made(&self, at: OffsetDateTime) -> Envelope {
        let registration = self.clone();
        let event = match self.status {
            RegistrationStatus::Waitlisted => DomainEvent::RegistrationWaitlisted { registration },
            RegistrationStatus::PendingPayment => DomainEvent::RegistrationHeld { registration },
            _ => DomainEvent::RegistrationConfirmed { registration },
        };
        Envelope::new(event, at)
    }

    /// The refund request of this registration's payment, for `reason`; `None` when nothing
    /// is left to refund.
    pub fn refund_request(&self, reason: RefundReason, at: OffsetDateTime) -> Option<Envelope> {
        let payment = self.payment.as_ref()?;
        let amount_cents = self.refundable_cents();
        (amount_cents > 0).then(|| {
            Envelope::new(
                DomainEvent::RefundRequested {
                    registration: self.clone(),
                    amount_cents,
                    currency: payment.currency.clone(),
                    reason,
                },
                at,
            )
        })
    }
}

impl PaymentOutcome {
    /// The outbox of this outcome of `payment` at `at`: RegistrationConfirmed and
    /// PaymentReceived for a confirmed seat; PaymentReceived and RefundRequested for a late
    /// payment; nothing when it was recorded before.
    pub fn events(&self, payment: &Payment, at: OffsetDateTime) -> Vec<Envelope> {
        match self {
            Self::Confirmed(paid) => vec![
                Envelope::new(
                    DomainEvent::RegistrationConfirmed {
                        registration: paid.clone(),
                    },
                    at,
                ),
                payment_received(paid, payment, at),
            ],
            Self::Late(late) => {
                let mut outbox = vec![payment_received(late, payment, at)];
                outbox.extend(late.refund_request(RefundReason::LatePayment, at));
                outbox
            }
            Self::AlreadyRecorded => Vec::new(),
        }
    }
}

fn payment_received(
    registration: &Registration,
    payment: &Payment,
    at: OffsetDateTime,
) -> Envelope {
    Envelope::new(
        DomainEvent::PaymentReceived {
            registration_id: registration.id,
            event_id: registration.event_id,
            amount_cents: payment.amount_cents,
            currency: payment.currency.clone(),
            payment_id: payment.payment_id.clone(),
        },
        at,
    )
}

/// The event of a waitlisted registration given a seat: RegistrationPromoted (confirmed)
/// or WaitlistOffered (a paid seat held for them to pay).
pub fn promotion_event(promoted: &Registration, at: OffsetDateTime) -> Envelope {
    let registration = promoted.clone();
    let event = match promoted.status {
        RegistrationStatus::PendingPayment => DomainEvent::WaitlistOffered { registration },
        _ => DomainEvent::RegistrationPromoted { registration },
    };
    Envelope::new(event, at)
}

/// The events of a cancellation: the cancelled registration (with the status it left, so
/// consumers know which counter it left), the promotion of the waitlisted one that took
/// its seat (`promoted` as promoted), and a refund request when `refund` and it was paid.
pub fn cancellation_events(
    before: &Registration,
    promoted: Option<&Registration>,
    refund: bool,
    at: OffsetDateTime,
) -> Vec<Envelope> {
    let cancelled = before.cancelled(at);
    let mut events = vec![Envelope::new(
        DomainEvent::RegistrationCancelled {
            registration: cancelled.clone(),
            previous: before.status,
        },
        at,
    )];
    events.extend(promoted.map(|promoted| promotion_event(promoted, at)));
    if refund {
        events.extend(cancelled.refund_request(RefundReason::Cancelled, at));
    }
    events
}

/// The events of a hold that lapsed unpaid: HoldExpired (the registration as released) and
/// the promotion of the waitlisted one that took its seat.
pub fn expiry_events(
    before: &Registration,
    promoted: Option<&Registration>,
    at: OffsetDateTime,
) -> Vec<Envelope> {
    let mut events = vec![Envelope::new(
        DomainEvent::HoldExpired {
            registration: before.cancelled(at),
        },
        at,
    )];
    events.extend(promoted.map(|promoted| promotion_event(promoted, at)));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::{event, held, payment};
    use time::macros::datetime;

    fn kinds(outbox: &[Envelope]) -> Vec<&'static str> {
        outbox.iter().map(|e| e.kind().into()).collect()
    }

    #[test]
    fn a_confirming_payment_writes_the_confirmation_and_the_money() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let ann = held(&event(1500), now);
        let outcome = ann.settle(&payment(1500), true, now);
        assert_eq!(
            kinds(&outcome.events(&payment(1500), now)),
            ["RegistrationConfirmed", "PaymentReceived"]
        );
        assert!(PaymentOutcome::AlreadyRecorded
            .events(&payment(1500), now)
            .is_empty());
    }

    #[test]
    fn a_late_payment_writes_the_money_and_asks_for_it_back() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let ann = held(&event(1500), now);
        let at_expiry = datetime!(2027-02-01 12:30 UTC);
        let cancelled = ann.with_status(RegistrationStatus::Cancelled);
        for (registration, at) in [(&ann, at_expiry), (&cancelled, now)] {
            let outcome = registration.settle(&payment(1500), true, at);
            assert_eq!(
                kinds(&outcome.events(&payment(1500), at)),
                ["PaymentReceived", "RefundRequested"]
            );
        }
    }

    #[test]
    fn both_ways_of_cancelling_stamp_the_events_copy() {
        let at = datetime!(2027-02-01 15:00 UTC);
        let reg = held(&event(0), datetime!(2027-02-01 12:00 UTC))
            .with_status(RegistrationStatus::Confirmed);
        let events = cancellation_events(&reg, None, false, at);
        assert!(matches!(&events[0].event,
            DomainEvent::RegistrationCancelled { registration, .. } if registration.cancelled_at == Some(at)));
        let lapsed = expiry_events(&reg, None, at);
        assert!(matches!(&lapsed[0].event,
            DomainEvent::HoldExpired { registration } if registration.revocation().is_some_and(|r| r.revoked_at == at)));
    }

    #[test]
    fn a_cancellation_with_a_promotion_emits_both_events() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let seat = held(&event(0), now).with_status(RegistrationStatus::Confirmed);
        let queued = held(&event(0), now).waitlisted();
        let promoted = queued.promoted(&crate::domain::Promotion::Confirm);
        let events = cancellation_events(&seat, Some(&promoted), false, now);
        assert_eq!(
            kinds(&events),
            ["RegistrationCancelled", "RegistrationPromoted"]
        );
        let DomainEvent::RegistrationPromoted { registration } = &events[1].event else {
            panic!("expected a promotion");
        };
        assert_eq!(registration.status, RegistrationStatus::Confirmed);
    }
}
