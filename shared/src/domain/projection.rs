//! The CQRS read model's rules: what each domain event changes in it.
//! Adapters apply a [`ProjectionChange`] atomically together with a dedupe marker.

use serde::{Deserialize, Serialize};
use time::Date;

use super::domain_event::DomainEvent;
use super::event::Event;
use super::ids::EventId;
use super::registration::{Registration, RegistrationStatus};

/// An event's counters as the read model keeps them (wire names as in the report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStats {
    /// Holding a seat: confirmed or checked in.
    pub registered: u64,
    /// Queued for a seat.
    pub waitlisted: u64,
    /// Cancelled, whatever they held before (expired holds too).
    pub cancelled: u64,
    /// Admitted at the door (also counted in `registered`).
    pub checked_in: u64,
    /// Holding a seat while paying (PENDING_PAYMENT: new holds and waitlist offers).
    #[serde(default)]
    pub pending: u64,
}

/// Additive, so deltas commute: the counters end right whatever the delivery order
/// (a cancellation projected before its confirmation dips a counter below zero for a
/// moment; readers clamp, see [`EventStats::from_counters`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)] // one signed change per counter of EventStats, named alike
pub struct StatsDelta {
    pub registered: i64,
    pub waitlisted: i64,
    pub cancelled: i64,
    pub checked_in: i64,
    pub pending: i64,
}

/// Signed changes to an event's money in one currency, in its minor unit; additive like
/// [`StatsDelta`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MoneyDelta {
    /// ISO 4217 code.
    pub currency: String,
    /// Money received.
    pub received: i64,
    /// Money refunded.
    pub refunded: i64,
    /// Money of seats held while paying.
    pub pending: i64,
}

/// An event's money in one currency as the report shows it, in the currency's minor unit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MoneyTotals {
    /// ISO 4217 code.
    pub currency: String,
    /// Received minus refunded: what the organizer keeps.
    pub revenue_cents: u64,
    /// Refunded.
    pub refunded_cents: u64,
    /// Held seats not yet paid.
    pub pending_cents: u64,
}

impl MoneyTotals {
    /// Stored counters as the report shows them; checked, never wrapping: an impossible
    /// negative (a refund projected before its payment, for a moment) shows as zero.
    pub fn from_counters(currency: String, received: i64, refunded: i64, pending: i64) -> Self {
        let shown = |amount: i64| u64::try_from(amount).unwrap_or(0);
        Self {
            currency,
            revenue_cents: shown(received.checked_sub(refunded).unwrap_or(0)),
            refunded_cents: shown(refunded),
            pending_cents: shown(pending),
        }
    }
}

impl EventStats {
    /// Stored counters as the API shows them.
    pub fn from_counters(
        registered: i64,
        waitlisted: i64,
        cancelled: i64,
        checked_in: i64,
        pending: i64,
    ) -> Self {
        let shown = |count: i64| u64::try_from(count).unwrap_or(0);
        Self {
            registered: shown(registered),
            waitlisted: shown(waitlisted),
            cancelled: shown(cancelled),
            checked_in: shown(checked_in),
            pending: shown(pending),
        }
    }
}

impl StatsDelta {
    /// The delta of a registration leaving `status` (-1) or entering it (+1).
    fn of(status: RegistrationStatus, sign: i64) -> Self {
        let mut delta = Self::default();
        match status {
            RegistrationStatus::Confirmed | RegistrationStatus::CheckedIn => {
                delta.registered = sign
            }
            RegistrationStatus::Waitlisted => delta.waitlisted = sign,
            RegistrationStatus::Cancelled => delta.cancelled = sign,
            RegistrationStatus::PendingPayment => delta.pending = sign,
        }
        delta
    }

    fn plus(self, other: Self) -> Self {
        Self {
            registered: self.registered + other.registered,
            waitlisted: self.waitlisted + other.waitlisted,
            cancelled: self.cancelled + other.cancelled,
            checked_in: self.checked_in + other.checked_in,
            pending: self.pending + other.pending,
        }
    }

    fn moved(from: RegistrationStatus, to: RegistrationStatus) -> Self {
        Self::of(from, -1).plus(Self::of(to, 1))
    }
}

/// What one domain event changes in the read model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionChange {
    /// Sets the event's listed fields, leaving the counters beside them as they are.
    /// Created, updated and cancelled events all land here; adapters keep the newest by
    /// the envelope id (a UUIDv7, so ordered by time) they apply it under, so a late
    /// EventCreated never overwrites an EventUpdated.
    Listing(Event),
    /// Adds `delta` (and `money`) to the event's counters.
    Counters {
        /// Whose counters.
        event_id: EventId,
        /// What to add.
        delta: StatsDelta,
        /// The UTC day a new registration was made on, counted once more in the report's
        /// registrations per day (also additive, so order-independent).
        registered_on: Option<Date>,
        /// What to add to the money of one currency.
        money: Option<MoneyDelta>,
    },
}

/// The organizer's report as the read model keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventReport {
    /// The counters.
    pub stats: EventStats,
    /// Registrations made (confirmed, held or waitlisted) per UTC day, oldest first.
    pub per_day: Vec<(Date, u64)>,
    /// Money per currency (an organizer may change the price's currency), by code.
    pub money: Vec<MoneyTotals>,
}

/// The money a held registration's seat is pending with, signed.
fn pending_money(registration: &Registration, sign: i64) -> Option<MoneyDelta> {
    let hold = registration.hold.as_ref()?;
    Some(MoneyDelta {
        currency: hold.currency.clone(),
        pending: sign * i64::try_from(hold.amount_cents).ok()?,
        ..MoneyDelta::default()
    })
}

fn money(
    currency: &str,
    amount_cents: u64,
    into: fn(&mut MoneyDelta) -> &mut i64,
) -> Option<MoneyDelta> {
    let mut delta = MoneyDelta {
        currency: currency.to_owned(),
        ..MoneyDelta::default()
    };
    *into(&mut delta) = i64::try_from(amount_cents).ok()?;
    Some(delta)
}

impl ProjectionChange {
    /// The change `event` makes, if it touches the read model at all.
    pub fn for_event(event: &DomainEvent) -> Option<Self> {
        let counters = |event_id: EventId, delta: StatsDelta, money: Option<MoneyDelta>| {
            Some(Self::Counters {
                event_id,
                delta,
                registered_on: None,
                money,
            })
        };
        let new_registration = |registration: &Registration, status, money| {
            Some(Self::Counters {
                event_id: registration.event_id,
                delta: StatsDelta::of(status, 1),
                registered_on: Some(
                    registration
                        .created_at
                        .to_offset(time::UtcOffset::UTC)
                        .date(),
                ),
                money,
            })
        };
        use RegistrationStatus::{Cancelled, Confirmed, PendingPayment, Waitlisted};
        match event {
            DomainEvent::EventCreated { event }
            | DomainEvent::EventUpdated { event, .. }
            | DomainEvent::EventCancelled { event } => Some(Self::Listing(event.clone())),
            // Paid: the seat was held (and its new registration counted) already.
            DomainEvent::RegistrationConfirmed { registration } => match &registration.payment {
                Some(payment) => counters(
                    registration.event_id,
                    StatsDelta::moved(PendingPayment, Confirmed),
                    money(&payment.currency, payment.amount_cents, |m| &mut m.pending).map(|m| {
                        MoneyDelta {
                            pending: -m.pending,
                            ..m
                        }
                    }),
                ),
                None => new_registration(registration, Confirmed, None),
            },
            DomainEvent::RegistrationHeld { registration } => {
                new_registration(registration, PendingPayment, pending_money(registration, 1))
            }
            DomainEvent::RegistrationWaitlisted { registration } => {
                new_registration(registration, Waitlisted, None)
            }
            DomainEvent::RegistrationPromoted { registration } => counters(
                registration.event_id,
                StatsDelta::moved(Waitlisted, Confirmed),
                None,
            ),
            DomainEvent::WaitlistOffered { registration } => counters(
                registration.event_id,
                StatsDelta::moved(Waitlisted, PendingPayment),
                pending_money(registration, 1),
            ),
            DomainEvent::HoldExpired { registration } => counters(
                registration.event_id,
                StatsDelta::moved(PendingPayment, Cancelled),
                pending_money(registration, -1),
            ),
            DomainEvent::RegistrationCancelled {
                registration,
                previous,
            } => counters(
                registration.event_id,
                StatsDelta::moved(*previous, Cancelled),
                (*previous == PendingPayment)
                    .then(|| pending_money(registration, -1))
                    .flatten(),
            ),
            // Checked in still holds its seat: `registered` is unchanged.
            DomainEvent::CheckedIn { event_id, .. } => counters(
                *event_id,
                StatsDelta {
                    checked_in: 1,
                    ..StatsDelta::default()
                },
                None,
            ),
            DomainEvent::PaymentReceived {
                event_id,
                amount_cents,
                currency,
                ..
            } => counters(
                *event_id,
                StatsDelta::default(),
                money(currency, *amount_cents, |m| &mut m.received),
            ),
            DomainEvent::RegistrationRefunded {
                registration,
                amount_cents,
                currency,
                ..
            } => counters(
                registration.event_id,
                StatsDelta::default(),
                money(currency, *amount_cents, |m| &mut m.refunded),
            ),
            DomainEvent::UserSignedUp { .. }
            | DomainEvent::TicketIssued { .. }
            | DomainEvent::PasswordResetRequested { .. }
            | DomainEvent::EventCancellationNoticesPending { .. }
            | DomainEvent::WaitlistOfferOpened { .. }
            | DomainEvent::RefundRequested { .. }
            | DomainEvent::RegistrationUpdated { .. }
            | DomainEvent::EventRefundsPending { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::payment::{Hold, Payment};
    use crate::domain::{cancellation_events, expiry_events, Promotion, RegistrationId, UserId};
    use time::OffsetDateTime;

    fn registration(status: RegistrationStatus) -> Registration {
        Registration {
            id: RegistrationId::now_v7(),
            event_id: EventId::from_uuid(uuid::Uuid::from_u128(7)),
            email: "a@b.co".into(),
            full_name: "A".into(),
            phone: None,
            status,
            created_at: OffsetDateTime::UNIX_EPOCH,
            checked_in_at: None,
            hold: None,
            payment: None,
            cancelled_at: None,
        }
    }

    fn delta(event: DomainEvent) -> StatsDelta {
        match ProjectionChange::for_event(&event) {
            Some(ProjectionChange::Counters {
                event_id, delta, ..
            }) => {
                assert_eq!(event_id, EventId::from_uuid(uuid::Uuid::from_u128(7)));
                delta
            }
            other => panic!("expected counters, got {other:?}"),
        }
    }

    #[test]
    fn a_confirmed_registration_counts_one_registered() {
        let registration = registration(RegistrationStatus::Confirmed);
        assert_eq!(
            delta(DomainEvent::RegistrationConfirmed { registration }),
            StatsDelta {
                registered: 1,
                ..StatsDelta::default()
            }
        );
    }

    #[test]
    fn a_journey_sums_to_the_final_counts_in_any_order() {
        let seat = registration(RegistrationStatus::Confirmed);
        let queued = registration(RegistrationStatus::Waitlisted);
        let mut events = vec![
            DomainEvent::RegistrationConfirmed {
                registration: seat.clone(),
            },
            DomainEvent::RegistrationWaitlisted {
                registration: queued.clone(),
            },
        ];
        events.extend(
            cancellation_events(
                &seat,
                Some(&queued.promoted(&Promotion::Confirm)),
                false,
                OffsetDateTime::UNIX_EPOCH,
            )
            .into_iter()
            .map(|e| e.event),
        );
        events.push(DomainEvent::CheckedIn {
            registration_id: queued.id,
            event_id: queued.event_id,
            at: OffsetDateTime::UNIX_EPOCH,
        });
        let expected = StatsDelta {
            registered: 1,
            waitlisted: 0,
            cancelled: 1,
            checked_in: 1,
            pending: 0,
        };
        let sum = |events: &[DomainEvent]| {
            events
                .iter()
                .map(|e| delta(e.clone()))
                .fold(StatsDelta::default(), StatsDelta::plus)
        };
        assert_eq!(sum(&events), expected);
        events.reverse();
        assert_eq!(sum(&events), expected);
    }

    #[test]
    fn counters_below_zero_show_as_zero() {
        let stats = EventStats::from_counters(-1, 2, 0, 1, 0);
        assert_eq!((stats.registered, stats.waitlisted), (0, 2));
    }

    #[test]
    fn user_and_ticket_events_do_not_touch_the_read_model() {
        let event = DomainEvent::UserSignedUp {
            user_id: UserId::now_v7(),
        };
        assert_eq!(ProjectionChange::for_event(&event), None);
    }

    fn money_of(event: DomainEvent) -> MoneyDelta {
        match ProjectionChange::for_event(&event) {
            Some(ProjectionChange::Counters {
                money: Some(money), ..
            }) => money,
            other => panic!("expected money, got {other:?}"),
        }
    }

    #[test]
    fn a_paid_journey_moves_seats_and_money() {
        let hold = Hold {
            expires_at: OffsetDateTime::UNIX_EPOCH,
            amount_cents: 1500,
            currency: "EUR".into(),
            offer: false,
            checkout_id: None,
            checkout_url: None,
        };
        let held = registration(RegistrationStatus::Confirmed).held(hold);
        let payment = Payment {
            payment_id: "pi_1".into(),
            amount_cents: 1500,
            currency: "EUR".into(),
            paid_at: OffsetDateTime::UNIX_EPOCH,
            refunded_cents: 0,
            refund_ids: Vec::new(),
        };
        let paid = held.paid(payment);
        let journey = [
            DomainEvent::RegistrationHeld {
                registration: held.clone(),
            },
            DomainEvent::RegistrationConfirmed {
                registration: paid.clone(),
            },
            DomainEvent::PaymentReceived {
                registration_id: paid.id,
                event_id: paid.event_id,
                amount_cents: 1500,
                currency: "EUR".into(),
                payment_id: "pi_1".into(),
            },
        ];
        let seats = journey
            .iter()
            .filter_map(|e| match ProjectionChange::for_event(e) {
                Some(ProjectionChange::Counters { delta, .. }) => Some(delta),
                _ => None,
            })
            .fold(StatsDelta::default(), StatsDelta::plus);
        assert_eq!((seats.registered, seats.pending), (1, 0));
        let pending: i64 = journey[..2]
            .iter()
            .map(|e| money_of(e.clone()).pending)
            .sum();
        assert_eq!(pending, 0, "held, then paid");
        assert_eq!(money_of(journey[2].clone()).received, 1500);

        let expired = expiry_events(&held, None, OffsetDateTime::UNIX_EPOCH);
        let lapsed = money_of(expired[0].event.clone());
        assert_eq!((lapsed.currency.as_str(), lapsed.pending), ("EUR", -1500));
        assert_eq!(
            delta(expired[0].event.clone()),
            StatsDelta {
                pending: -1,
                cancelled: 1,
                ..StatsDelta::default()
            }
        );
    }

    #[test]
    fn revenue_is_received_minus_refunded_and_never_wraps() {
        let totals = MoneyTotals::from_counters("JPY".into(), 3000, 1000, -5);
        assert_eq!(
            (
                totals.revenue_cents,
                totals.refunded_cents,
                totals.pending_cents
            ),
            (2000, 1000, 0)
        );
        let refund_first = MoneyTotals::from_counters("EUR".into(), 0, 1500, 0);
        assert_eq!(refund_first.revenue_cents, 0);
        let extreme = MoneyTotals::from_counters("EUR".into(), i64::MIN, i64::MAX, 0);
        assert_eq!(extreme.revenue_cents, 0);
    }
}
