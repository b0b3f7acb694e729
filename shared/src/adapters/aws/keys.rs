//! Every key of evreg's two DynamoDB tables, in one place. Items are placed by `pk`/`sk`
//! (single-table design); `gsi1`/`gsi2` are the generic secondary indexes named in
//! `template.yaml`.
//!
//! Write table:
//!
//! | item | pk | sk | index |
//! |---|---|---|---|
//! | user | `USER#<id>` | `USER` | `gsi1`: `USERS` / `<email>#<id>` |
//! | unique email guard | `EMAIL#<email>` | `EMAIL` | |
//! | event (+ `confirmed`, `waitlisted` counters) | `EVENT#<id>` | `EVENT` | |
//! | unique slug guard | `SLUG#<slug>` | `SLUG` | |
//! | one live registration per (event, email) | `EVENT#<id>` | `EMAIL#<email>` | |
//! | waitlist entry, FIFO | `EVENT#<id>` | `WAIT#<time>#<registration id>` | |
//! | registration | `REG#<id>` | `REG` | `gsi1`: `EVENT#<id>#REGS` / `<time>#<id>`; while PENDING_PAYMENT `gsi2`: `HOLDS` / `<expiry>#<id>`; once cancelled `gsi2`: `EVENT#<id>#REVOKED` / `<cancelled time>#<id>` |
//! | its ticket (QR payload) | `REG#<id>` | `TICKET` | |
//! | outbox entry | `OUTBOX#<id>` | `OUTBOX` | `gsi1`: `OUTBOX` / `<time>#<id>` |
//! | idempotency record | `IDEM#<key>` | `IDEM` | |
//! | refresh token | `RTOKEN#<sha256>` | `RTOKEN` | |
//! | refresh-token family | `RFAMILY#<id>` | `RFAMILY` | |
//! | a user's session generation | `RUSER#<user id>` | `RUSER` | |
//! | login failure counter | `THROTTLE#<key>` | `<window start>` | |
//! | password-reset token | `PWRESET#<sha256>` | `PWRESET` | |
//!
//! Read table:
//!
//! | item | pk | sk | index |
//! |---|---|---|---|
//! | event summary | `EVENT#<id>` | `SUMMARY` | `gsi1`: `PUBLISHED` / `<date>#<id>`; `gsi2`: `PUBLISHED` / `<created>#<id>` |
//! | registrations made on one UTC day | `EVENT#<id>` | `DAY#<yyyy-mm-dd>` | |
//! | money in one currency (`received`, `refunded`, `pending`) | `EVENT#<id>` | `MONEY#<currency>` | |
//! | applied-event marker | `APPLIED#<envelope id>` | `APPLIED` | |
//!
//! `<time>` is [`sortable_time`], so string order is time order.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::domain::calendar::format_day;
use crate::domain::{sortable_time, EventId, Registration, RegistrationId, UserId};

/// An item's primary key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The partition key.
    pub pk: String,
    /// The sort key.
    pub sk: String,
}

impl Key {
    fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// `{pk, sk}` as attributes: a `Key` argument, or the start of a new item.
    pub fn item(&self) -> HashMap<String, AttributeValue> {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(self.pk.clone())),
            ("sk".to_owned(), AttributeValue::S(self.sk.clone())),
        ])
    }
}

/// A secondary index and its key attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Index {
    /// The index name in `template.yaml`.
    pub name: &'static str,
    /// Its partition key attribute.
    pub hash: &'static str,
    /// Its sort key attribute.
    pub range: &'static str,
}

/// The first generic index of both tables.
pub const GSI1: Index = Index {
    name: "gsi1",
    hash: "gsi1pk",
    range: "gsi1sk",
};
/// The second generic index of both tables: the read table's listings newest first; the
/// write table's sparse index of holds by expiry (only PENDING_PAYMENT items carry its
/// keys).
pub const GSI2: Index = Index {
    name: "gsi2",
    hash: "gsi2pk",
    range: "gsi2sk",
};

/// `gsi1` partition of every user, sorted by email.
pub const USERS_PARTITION: &str = "USERS";
/// `gsi2` partition of the write table's holds, soonest lapsing first.
pub const HOLDS_PARTITION: &str = "HOLDS";
/// `gsi1` partition of the outbox, oldest first.
pub const OUTBOX_PARTITION: &str = "OUTBOX";
/// The read table's index partition of published events (`gsi1` and `gsi2`).
pub const PUBLISHED_PARTITION: &str = "PUBLISHED";
/// The sort-key prefix of an event's waitlist entries.
pub const WAITLIST_PREFIX: &str = "WAIT#";
/// The sort-key prefix of an event's per-day report rows.
pub const DAY_PREFIX: &str = "DAY#";
/// The sort-key prefix of an event's money per currency.
pub const MONEY_PREFIX: &str = "MONEY#";
/// The sort key of an event's summary in the read table.
pub const SUMMARY: &str = "SUMMARY";

/// `<time>#<id>`: orders by time, the id breaking ties.
pub fn by_time(at: OffsetDateTime, id: impl std::fmt::Display) -> String {
    format!("{}#{id}", sortable_time(at))
}

/// The greatest `<time>#<id>` sort key at `at`: `sk <= up_to(at)` selects everything due
/// by then (`~` sorts after every character of an id).
pub fn up_to(at: OffsetDateTime) -> String {
    format!("{}#~", sortable_time(at))
}

/// A user.
pub fn user(id: UserId) -> Key {
    Key::new(format!("USER#{id}"), "USER")
}

/// The guard that makes a normalized email unique among users.
pub fn email_guard(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}

/// A user's place in the `USERS` listing.
pub fn user_listing(email: &str, id: UserId) -> String {
    format!("{email}#{id}")
}

/// The partition key of everything an event holds in the write table (and of its
/// summary and day rows in the read table).
pub fn event_partition(id: EventId) -> String {
    format!("EVENT#{id}")
}

/// An event, with its seat counters.
pub fn event(id: EventId) -> Key {
    Key::new(event_partition(id), "EVENT")
}

/// The guard that makes a slug unique among events.
pub fn slug_guard(slug: &str) -> Key {
    Key::new(format!("SLUG#{slug}"), "SLUG")
}

/// The guard that allows one live registration per (event, email).
pub fn registration_guard(event_id: EventId, email: &str) -> Key {
    Key::new(event_partition(event_id), format!("EMAIL#{email}"))
}

/// A registration.
pub fn registration(id: RegistrationId) -> Key {
    Key::new(format!("REG#{id}"), "REG")
}

/// The `gsi1` partition of an event's registrations, by time.
pub fn registrations_partition(event_id: EventId) -> String {
    format!("{}#REGS", event_partition(event_id))
}

/// The `gsi2` partition of an event's cancelled registrations (its revocation list), by
/// cancellation time.
pub fn revocations_partition(event_id: EventId) -> String {
    format!("{}#REVOKED", event_partition(event_id))
}

/// A registration's ticket, beside it (the registration item is replaced whole on every
/// change; the ticket is written once).
pub fn ticket(id: RegistrationId) -> Key {
    Key::new(format!("REG#{id}"), "TICKET")
}

/// A waitlisted registration's place in its event's queue, first come first served.
pub fn waitlist_entry(registration: &Registration) -> Key {
    Key::new(
        event_partition(registration.event_id),
        format!(
            "{WAITLIST_PREFIX}{}",
            by_time(registration.created_at, registration.id)
        ),
    )
}

/// An outbox entry.
pub fn outbox(id: Uuid) -> Key {
    Key::new(format!("OUTBOX#{id}"), "OUTBOX")
}

/// An idempotency record.
pub fn idempotency(key: &str) -> Key {
    Key::new(format!("IDEM#{key}"), "IDEM")
}

/// A refresh token, by the SHA-256 of its secret.
pub fn refresh_token(hash: &str) -> Key {
    Key::new(format!("RTOKEN#{hash}"), "RTOKEN")
}

/// A refresh-token family.
pub fn refresh_family(id: Uuid) -> Key {
    Key::new(format!("RFAMILY#{id}"), "RFAMILY")
}

/// A user's session generation: bumping it revokes every family of the user.
pub fn session_generation(user_id: UserId) -> Key {
    Key::new(format!("RUSER#{user_id}"), "RUSER")
}

/// A login failure counter for one key and window (start in unix seconds).
pub fn throttle(key: &str, window_start: i64) -> Key {
    Key::new(format!("THROTTLE#{key}"), window_start.to_string())
}

/// A password-reset token, by the SHA-256 of its secret.
pub fn password_reset(hash: &str) -> Key {
    Key::new(format!("PWRESET#{hash}"), "PWRESET")
}

/// An event's summary in the read table.
pub fn summary(event_id: EventId) -> Key {
    Key::new(event_partition(event_id), SUMMARY)
}

/// An event's registrations made on one UTC day, in the read table.
pub fn report_day(event_id: EventId, day: Date) -> Key {
    Key::new(
        event_partition(event_id),
        format!("{DAY_PREFIX}{}", format_day(day)),
    )
}

/// An event's money in one currency, in the read table.
pub fn report_money(event_id: EventId, currency: &str) -> Key {
    Key::new(
        event_partition(event_id),
        format!("{MONEY_PREFIX}{currency}"),
    )
}

/// The marker that a domain event was applied to the read model.
pub fn applied(dedupe_id: Uuid) -> Key {
    Key::new(format!("APPLIED#{dedupe_id}"), "APPLIED")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn keys_are_as_the_table_documents_them() {
        let id = EventId::from_uuid(Uuid::nil());
        assert_eq!(event(id).pk, format!("EVENT#{}", Uuid::nil()));
        assert_eq!(event(id).sk, "EVENT");
        assert_eq!(
            registration_guard(id, "a@b.co").sk,
            "EMAIL#a@b.co",
            "the guard lives in the event's partition"
        );
        assert_eq!(registration_guard(id, "a@b.co").pk, event(id).pk);
        assert_eq!(
            registrations_partition(id),
            format!("EVENT#{}#REGS", Uuid::nil())
        );
        assert_eq!(throttle("ip:1.2.3.4", 60).sk, "60");
        assert_eq!(report_day(id, date!(2027 - 03 - 01)).sk, "DAY#2027-03-01");
        assert_eq!(summary(id).sk, SUMMARY);
    }

    #[test]
    fn waitlist_entries_sort_first_come_first_served() {
        let registration = |minute: u8| Registration {
            id: RegistrationId::now_v7(),
            event_id: EventId::from_uuid(Uuid::nil()),
            email: "a@b.co".into(),
            full_name: "A".into(),
            phone: None,
            status: crate::domain::RegistrationStatus::Waitlisted,
            created_at: datetime!(2027-03-01 18:00 UTC) + time::Duration::minutes(minute.into()),
            checked_in_at: None,
            hold: None,
            payment: None,
            cancelled_at: None,
        };
        let (first, second) = (
            waitlist_entry(&registration(1)),
            waitlist_entry(&registration(2)),
        );
        assert!(first.sk.starts_with(WAITLIST_PREFIX));
        assert_eq!(first.pk, second.pk);
        assert!(first.sk < second.sk);
    }

    #[test]
    fn a_key_item_has_exactly_pk_and_sk() {
        let item = outbox(Uuid::nil()).item();
        assert_eq!(item.len(), 2);
        assert_eq!(item.get("sk"), Some(&AttributeValue::S("OUTBOX".into())));
    }
}
