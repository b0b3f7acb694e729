//! The CQRS read model's rules: what each domain event changes in it.
//! Adapters apply a [`ProjectionChange`] atomically together with a dedupe marker.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain_event::DomainEvent;
use super::event::Event;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventStats {
    pub registered: u64,
    pub waitlisted: u64,
}

/// Additive, so deltas commute: the counters end right whatever the delivery order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsDelta {
    pub registered: i64,
    pub waitlisted: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionChange {
    /// Sets the event's listed fields, leaving the counters beside them as they are.
    Listing(Event),
    Counters {
        event_id: Uuid,
        delta: StatsDelta,
    },
}

impl ProjectionChange {
    pub fn for_event(event: &DomainEvent) -> Option<Self> {
        match event {
            DomainEvent::EventCreated { event } => Some(Self::Listing(event.clone())),
            DomainEvent::RegistrationConfirmed { registration } => Some(Self::Counters {
                event_id: registration.event_id,
                delta: StatsDelta {
                    registered: 1,
                    ..StatsDelta::default()
                },
            }),
            DomainEvent::RegistrationWaitlisted { registration } => Some(Self::Counters {
                event_id: registration.event_id,
                delta: StatsDelta {
                    waitlisted: 1,
                    ..StatsDelta::default()
                },
            }),
            DomainEvent::UserSignedUp { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Registration, RegistrationStatus};

    #[test]
    fn a_confirmed_registration_counts_one_registered() {
        let registration = Registration {
            id: Uuid::nil(),
            event_id: Uuid::from_u128(7),
            email: "a@b.co".into(),
            full_name: "A".into(),
            phone: None,
            status: RegistrationStatus::Confirmed,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        assert_eq!(
            ProjectionChange::for_event(&DomainEvent::RegistrationConfirmed { registration }),
            Some(ProjectionChange::Counters {
                event_id: Uuid::from_u128(7),
                delta: StatsDelta {
                    registered: 1,
                    waitlisted: 0
                }
            })
        );
    }

    #[test]
    fn user_events_do_not_touch_the_read_model() {
        let event = DomainEvent::UserSignedUp {
            user_id: Uuid::nil(),
        };
        assert_eq!(ProjectionChange::for_event(&event), None);
    }
}

/// A fixed-width UTC timestamp (`2027-03-01T18:00:00.000000000Z`) whose string order is
/// its time order, for sort keys in stores that compare strings.
pub fn sortable_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.nanosecond()
    )
}

#[cfg(test)]
mod sortable_time_tests {
    use super::sortable_time;
    use time::macros::datetime;

    #[test]
    fn string_order_is_time_order_across_offsets_and_fractions() {
        let earlier = sortable_time(datetime!(2027-03-01 18:00:00 UTC));
        let later = sortable_time(datetime!(2027-03-01 18:00:00.5 UTC));
        let same_instant_other_offset = sortable_time(datetime!(2027-03-01 20:00:00 +2));
        assert!(earlier < later);
        assert_eq!(earlier, same_instant_other_offset);
        assert_eq!(earlier, "2027-03-01T18:00:00.000000000Z");
    }
}
