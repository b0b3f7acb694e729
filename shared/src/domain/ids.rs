//! Typed identifiers. Every entity id is a UUIDv7 (RFC 9562 §5.7: time-ordered, so ids
//! sort by creation) wrapped in a type of its own, so an event's id cannot be passed where
//! a registration's is meant. On the wire and in storage each is the plain hyphenated UUID
//! string (`#[serde(transparent)]`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id: a UUIDv7 of the current time.
            pub fn now_v7() -> Self {
                Self(Uuid::now_v7())
            }

            /// The id that `uuid` names.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            /// The hyphenated lower-case form (`0190c3a2-…`), as stored and sent.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            /// Any form [`Uuid::parse_str`] reads (hyphenated, simple, braced, URN).
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }
    };
}

id_type!(
    /// Names an [`Event`](super::Event) (the conference, concert… people register for).
    EventId
);
id_type!(
    /// Names a [`Registration`](super::Registration): one attendee's place at one event.
    RegistrationId
);
id_type!(
    /// Names a [`User`](super::User) account (ADMIN, ORGANIZER or STAFF).
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_and_write_as_plain_uuids() {
        let id = EventId::now_v7();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", id.as_uuid()));
        assert_eq!(serde_json::from_str::<EventId>(&json).unwrap(), id);
        assert_eq!(id.to_string().parse::<EventId>().unwrap(), id);
        assert!("not-a-uuid".parse::<RegistrationId>().is_err());
    }

    #[test]
    fn ids_made_later_sort_later() {
        let first = UserId::now_v7();
        let second = UserId::now_v7();
        assert!(first < second);
    }
}
