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
    /// Cancelled, whatever they held before.
    pub cancelled: u64,
    /// Admitted at the door (also counted in `registered`).
    pub checked_in: u64,
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
}

impl EventStats {
    /// Stored counters as the API shows them.
    pub fn from_counters(
        registered: i64,
        waitlisted: i64,
        cancelled: i64,
        checked_in: i64,
    ) -> Self {
        let shown = |count: i64| u64::try_from(count).unwrap_or(0);
        Self {
            registered: shown(registered),
            waitlisted: shown(waitlisted),
            cancelled: shown(cancelled),
            checked_in: shown(checked_in),
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
            RegistrationStatus::PendingPayment => {}
        }
        delta
    }

    fn plus(self, other: Self) -> Self {
        Self {
            registered: self.registered + other.registered,
            waitlisted: self.waitlisted + other.waitlisted,
            cancelled: self.cancelled + other.cancelled,
            checked_in: self.checked_in + other.checked_in,
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
    /// Adds `delta` to the event's counters.
    Counters {
        /// Whose counters.
        event_id: EventId,
        /// What to add.
        delta: StatsDelta,
        /// The UTC day a new registration was made on, counted once more in the report's
        /// registrations per day (also additive, so order-independent).
        registered_on: Option<Date>,
    },
}

/// The organizer's report as the read model keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventReport {
    /// The counters.
    pub stats: EventStats,
    /// Registrations made (confirmed or waitlisted) per UTC day, oldest first.
    pub per_day: Vec<(Date, u64)>,
}

impl ProjectionChange {
    /// The change `event` makes, if it touches the read model at all.
    pub fn for_event(event: &DomainEvent) -> Option<Self> {
        let counters = |event_id: EventId, delta: StatsDelta| {
            Some(Self::Counters {
                event_id,
                delta,
                registered_on: None,
            })
        };
        let new_registration = |registration: &Registration, status| {
            Some(Self::Counters {
                event_id: registration.event_id,
                delta: StatsDelta::of(status, 1),
                registered_on: Some(
                    registration
                        .created_at
                        .to_offset(time::UtcOffset::UTC)
                        .date(),
                ),
            })
        };
        match event {
            DomainEvent::EventCreated { event }
            | DomainEvent::EventUpdated { event }
            | DomainEvent::EventCancelled { event } => Some(Self::Listing(event.clone())),
            DomainEvent::RegistrationConfirmed { registration } => {
                new_registration(registration, RegistrationStatus::Confirmed)
            }
            DomainEvent::RegistrationWaitlisted { registration } => {
                new_registration(registration, RegistrationStatus::Waitlisted)
            }
            DomainEvent::RegistrationPromoted { registration } => counters(
                registration.event_id,
                StatsDelta::moved(
                    RegistrationStatus::Waitlisted,
                    RegistrationStatus::Confirmed,
                ),
            ),
            DomainEvent::RegistrationCancelled {
                registration,
                previous,
            } => counters(
                registration.event_id,
                StatsDelta::moved(*previous, RegistrationStatus::Cancelled),
            ),
            // Checked in still holds its seat: `registered` is unchanged.
            DomainEvent::CheckedIn { event_id, .. } => counters(
                *event_id,
                StatsDelta {
                    checked_in: 1,
                    ..StatsDelta::default()
                },
            ),
            DomainEvent::UserSignedUp { .. }
            | DomainEvent::TicketIssued { .. }
            | DomainEvent::PasswordResetRequested { .. }
            | DomainEvent::EventCancellationNoticesPending { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{cancellation_events, RegistrationId, UserId};
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
            cancellation_events(&seat, Some(&queued), OffsetDateTime::UNIX_EPOCH)
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
        let stats = EventStats::from_counters(-1, 2, 0, 1);
        assert_eq!((stats.registered, stats.waitlisted), (0, 2));
    }

    #[test]
    fn user_and_ticket_events_do_not_touch_the_read_model() {
        let event = DomainEvent::UserSignedUp {
            user_id: UserId::now_v7(),
        };
        assert_eq!(ProjectionChange::for_event(&event), None);
    }
}
