//! Events people register for: their fields, validation on create and full update (PUT),
//! and the slug rule. Whether a capacity still holds the seats taken is the store's to
//! decide, atomically; everything else about an event is decided here.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::error::{DomainError, Refusal, Violations};
use super::ids::{EventId, UserId};
use super::payment::{
    Hold, Promotion, RefundPolicy, DEFAULT_OFFER_WINDOW_MINUTES, DEFAULT_PAYMENT_WINDOW_MINUTES,
    MAX_PRICE_CENTS, OFFER_WINDOW_MINUTES, PAYMENT_WINDOW_MINUTES, REFUND_HOURS,
};
use super::validate::{is_iso4217_currency, is_present_text};

/// Where an event is in its life: DRAFT (only its owner and ADMINs see it), PUBLISHED
/// (listed, open for registration), CANCELLED (closed for good; registrants are told).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventStatus {
    /// Being prepared; not public, not open for registration.
    Draft,
    /// Public and open for registration.
    Published,
    /// Closed for good.
    Cancelled,
}

impl EventStatus {
    /// The wire and storage name: `DRAFT`, `PUBLISHED` or `CANCELLED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "DRAFT",
            Self::Published => "PUBLISHED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// An event as stored and as the API shows it (JSON field names are the wire names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Its id (UUIDv7).
    pub id: EventId,
    /// The ORGANIZER (or ADMIN) who created it and may change it.
    pub owner_id: UserId,
    /// Display name, 1–200 characters, trimmed.
    pub name: String,
    /// Unique URL name (`/e/{slug}`): lower-case ASCII letters, digits and single hyphens,
    /// at most 80 characters.
    pub slug: String,
    /// Plain text, at most 10,000 characters.
    pub description: String,
    /// When it starts (RFC 3339 on the wire).
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    /// When it ends, after `date`, if known.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end_date: Option<OffsetDateTime>,
    /// Where it takes place, 1–200 characters.
    pub venue: String,
    /// The IANA time zone its times are shown in (`Europe/Berlin`; `UTC` by default, and
    /// for events stored before the field existed). Names only: the instants in `date` and
    /// `end_date` stay what they are.
    #[serde(default = "default_timezone")]
    pub timezone: Tz,
    /// Seats, 1 to [`MAX_CAPACITY`].
    pub max_capacity: u32,
    /// Price per seat in the currency's minor unit (cents for EUR); 0 is free.
    pub price_cents: u64,
    /// ISO 4217 alphabetic code, upper case (`EUR`).
    pub currency: String,
    /// See [`EventStatus`].
    pub status: EventStatus,
    /// Whether registrations beyond capacity queue for a seat instead of being refused.
    pub waitlist_enabled: bool,
    /// Paid events: minutes a new registration holds its seat while paying (5–1440).
    #[serde(default = "default_payment_window")]
    pub payment_window_minutes: u32,
    /// Paid events: minutes a waitlist offer stays open (5–1440).
    #[serde(default = "default_offer_window")]
    pub offer_window_minutes: u32,
    /// Paid events: when a cancellation is refunded.
    #[serde(default)]
    pub refund_policy: RefundPolicy,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A create- or update-event request as the API receives it, before validation; the
/// fields mean what [`Event`]'s do. Missing optional fields take their defaults
/// (`description` empty, `price_cents` 0, `currency` EUR, `status` DRAFT, no waitlist).
#[allow(missing_docs)] // the fields are Event's, documented there
#[derive(Debug, Clone, Deserialize)]
pub struct NewEvent {
    pub name: String,
    /// Derived from the name (plus an id suffix) when absent on creation; kept on update.
    pub slug: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub end_date: Option<OffsetDateTime>,
    pub venue: String,
    /// An IANA time zone name, checked against the tz database (`UTC` when absent).
    #[serde(default = "default_timezone_name")]
    pub timezone: String,
    pub max_capacity: u32,
    #[serde(default)]
    pub price_cents: u64,
    #[serde(default = "default_currency")]
    pub currency: String,
    #[serde(default = "default_status")]
    pub status: EventStatus,
    #[serde(default)]
    pub waitlist_enabled: bool,
    #[serde(default = "default_payment_window")]
    pub payment_window_minutes: u32,
    #[serde(default = "default_offer_window")]
    pub offer_window_minutes: u32,
    #[serde(default)]
    pub refund_policy: RefundPolicy,
}

fn default_payment_window() -> u32 {
    DEFAULT_PAYMENT_WINDOW_MINUTES
}

fn default_offer_window() -> u32 {
    DEFAULT_OFFER_WINDOW_MINUTES
}

fn default_timezone() -> Tz {
    Tz::UTC
}

fn default_timezone_name() -> String {
    Tz::UTC.name().to_owned()
}

fn default_currency() -> String {
    "EUR".into()
}

fn default_status() -> EventStatus {
    EventStatus::Draft
}

/// How long an event without an `end_date` is taken to last.
pub const DEFAULT_DURATION: time::Duration = time::Duration::days(1);

impl Event {
    /// Whether a seat costs money.
    pub fn is_paid(&self) -> bool {
        self.price_cents > 0
    }

    /// The hold of a new paid registration made at `now`; `None` on a free event.
    pub fn hold_at(&self, now: OffsetDateTime) -> Option<Hold> {
        self.is_paid().then(|| Hold {
            expires_at: now + Duration::minutes(i64::from(self.payment_window_minutes)),
            amount_cents: self.price_cents,
            currency: self.currency.clone(),
            offer: false,
            checkout_id: None,
            checkout_url: None,
        })
    }

    /// How a seat released at `now` passes to the head of the waitlist.
    pub fn promotion_at(&self, now: OffsetDateTime) -> Promotion {
        if self.is_paid() {
            Promotion::Offer {
                expires_at: now + Duration::minutes(i64::from(self.offer_window_minutes)),
                amount_cents: self.price_cents,
                currency: self.currency.clone(),
            }
        } else {
            Promotion::Confirm
        }
    }

    /// Whether a paid registration cancelled at `now` is refunded: within the refund
    /// policy, or always when an ADMIN cancels.
    pub fn refunds_at(&self, now: OffsetDateTime, by_admin: bool) -> bool {
        let deadline =
            self.date - Duration::hours(i64::from(self.refund_policy.until_hours_before_start));
        by_admin || now <= deadline
    }

    /// When the event is over: its `end_date`, or a day after it starts when it has none.
    pub fn ends_at(&self) -> OffsetDateTime {
        self.end_date.unwrap_or(self.date + DEFAULT_DURATION)
    }

    /// Refuses ([`Refusal::EventEnded`]) what only a running or coming event takes —
    /// registering, checking in — once it is over at `now`. Whether it is published is the
    /// store's condition, checked in the write itself.
    pub fn refuse_ended(&self, now: OffsetDateTime) -> Result<(), Refusal> {
        if now >= self.ends_at() {
            return Err(Refusal::EventEnded);
        }
        Ok(())
    }

    /// This event as cancelled (`DELETE /events/{id}`); cancelling twice is a conflict.
    pub fn cancelled(&self) -> Result<Self, Refusal> {
        if self.status == EventStatus::Cancelled {
            return Err(Refusal::AlreadyCancelled);
        }
        Ok(Self {
            status: EventStatus::Cancelled,
            ..self.clone()
        })
    }
}

/// The most seats an event may have.
pub const MAX_CAPACITY: u32 = 1_000_000;
const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 10_000;
const MAX_SLUG_CHARS: usize = 80;

impl NewEvent {
    /// Validates a new event owned by `owner_id`: every invalid field is reported at once
    /// ([`DomainError::Invalid`]); a new event cannot start CANCELLED.
    pub fn validate(
        self,
        id: EventId,
        owner_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Event, DomainError> {
        let mut violations = Violations::default();
        violations.check(
            self.status != EventStatus::Cancelled,
            "status",
            "a new event is DRAFT or PUBLISHED",
        );
        self.checked(id, owner_id, now, violations)
    }

    /// The full replacement of `current` (PUT): every field is validated as on creation;
    /// the id, owner and creation time stay. Cancelled is a status it may move to, but a
    /// cancelled event stays cancelled (its registrants have been told). Whether the
    /// capacity still holds the seats taken is the store's to decide, atomically.
    pub fn validate_update(self, current: &Event) -> Result<Event, DomainError> {
        let mut violations = Violations::default();
        violations.check(
            current.status != EventStatus::Cancelled || self.status == EventStatus::Cancelled,
            "status",
            "a cancelled event stays cancelled",
        );
        let slug = self.slug.clone().unwrap_or_else(|| current.slug.clone());
        let new = NewEvent {
            slug: Some(slug),
            ..self
        };
        new.checked(current.id, current.owner_id, current.created_at, violations)
    }

    fn checked(
        self,
        id: EventId,
        owner_id: UserId,
        created_at: OffsetDateTime,
        mut violations: Violations,
    ) -> Result<Event, DomainError> {
        violations.check(
            is_present_text(&self.name, MAX_NAME_CHARS),
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        );
        let slug = match self.slug {
            Some(slug) => slug,
            None => derive_slug(&self.name, id),
        };
        violations.check(
            is_slug(&slug),
            "slug",
            format!("must be lower-case letters, digits and single hyphens, at most {MAX_SLUG_CHARS} characters"),
        );
        violations.check(
            self.description.chars().count() <= MAX_DESCRIPTION_CHARS,
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
        violations.check(
            is_present_text(&self.venue, MAX_NAME_CHARS),
            "venue",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        );
        // chrono-tz carries the IANA tz database (every zone and link name, matched
        // exactly as the database spells it), so no list is kept here.
        let timezone = self.timezone.parse::<Tz>().ok();
        violations.check(
            timezone.is_some(),
            "timezone",
            "must be an IANA time zone name such as Europe/Berlin or UTC",
        );
        if let Some(end) = self.end_date {
            violations.check(end > self.date, "end_date", "must be after date");
        }
        violations.check(
            (1..=MAX_CAPACITY).contains(&self.max_capacity),
            "max_capacity",
            format!("must be between 1 and {MAX_CAPACITY}"),
        );
        violations.check(
            is_iso4217_currency(&self.currency),
            "currency",
            "must be an active ISO 4217 currency code such as EUR",
        );
        violations.check(
            self.price_cents <= MAX_PRICE_CENTS,
            "price_cents",
            format!("must be at most {MAX_PRICE_CENTS} (in the currency's minor unit)"),
        );
        violations.check(
            PAYMENT_WINDOW_MINUTES.contains(&self.payment_window_minutes),
            "payment_window_minutes",
            format!(
                "must be between {} and {}",
                PAYMENT_WINDOW_MINUTES.start(),
                PAYMENT_WINDOW_MINUTES.end()
            ),
        );
        violations.check(
            OFFER_WINDOW_MINUTES.contains(&self.offer_window_minutes),
            "offer_window_minutes",
            format!(
                "must be between {} and {}",
                OFFER_WINDOW_MINUTES.start(),
                OFFER_WINDOW_MINUTES.end()
            ),
        );
        violations.check(
            REFUND_HOURS.contains(&self.refund_policy.until_hours_before_start),
            "refund_policy",
            format!(
                "until_hours_before_start must be between {} and {}",
                REFUND_HOURS.start(),
                REFUND_HOURS.end()
            ),
        );
        violations.into_result()?;
        Ok(Event {
            id,
            owner_id,
            name: self.name.trim().to_owned(),
            slug,
            description: self.description,
            date: self.date,
            end_date: self.end_date,
            venue: self.venue.trim().to_owned(),
            timezone: timezone.unwrap_or(Tz::UTC),
            max_capacity: self.max_capacity,
            price_cents: self.price_cents,
            currency: self.currency,
            status: self.status,
            waitlist_enabled: self.waitlist_enabled,
            payment_window_minutes: self.payment_window_minutes,
            offer_window_minutes: self.offer_window_minutes,
            refund_policy: self.refund_policy,
            created_at,
        })
    }
}

fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= MAX_SLUG_CHARS
        && slug.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// `"Rust Meetup #4!"` → `"rust-meetup-4-1a2b3c4d"`: readable, and the id suffix keeps two
/// events of one name from colliding on the slug guard. The suffix is the id's last 8 hex
/// digits, which are random in a UUIDv7 (RFC 9562 §5.7): its first 8 are the top of its
/// timestamp, the same for every id made within 65 s, so two events of one name created a
/// minute apart took the same slug (409 `slug_taken`).
fn derive_slug(name: &str, id: EventId) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut base = words.join("-");
    base.truncate(MAX_SLUG_CHARS - 9);
    let base = base.trim_end_matches('-');
    let hex = id.as_uuid().simple().to_string();
    let suffix = &hex[hex.len() - 8..];
    if base.is_empty() {
        suffix.to_owned()
    } else {
        format!("{base}-{suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;
    use uuid::Uuid;

    fn new_event() -> NewEvent {
        NewEvent {
            name: " Rust Meetup #4! ".into(),
            slug: None,
            description: String::new(),
            date: datetime!(2027-03-01 18:00 UTC),
            end_date: Some(datetime!(2027-03-01 21:00 UTC)),
            venue: "Hall A".into(),
            timezone: "Europe/Berlin".into(),
            max_capacity: 50,
            price_cents: 0,
            currency: "EUR".into(),
            status: EventStatus::Published,
            waitlist_enabled: false,
            payment_window_minutes: 30,
            offer_window_minutes: 720,
            refund_policy: RefundPolicy::default(),
        }
    }

    #[test]
    fn payment_settings_are_bounded() {
        let mut new = new_event();
        new.price_cents = MAX_PRICE_CENTS + 1;
        new.payment_window_minutes = 4;
        new.offer_window_minutes = 1441;
        new.refund_policy.until_hours_before_start = 8761;
        assert_eq!(
            invalid_fields(new),
            [
                "price_cents",
                "payment_window_minutes",
                "offer_window_minutes",
                "refund_policy"
            ]
        );
    }

    #[test]
    fn payment_settings_default_when_absent() {
        let new: NewEvent = serde_json::from_value(serde_json::json!({
            "name": "N", "date": "2027-03-01T18:00:00Z", "venue": "V", "max_capacity": 1
        }))
        .unwrap();
        assert_eq!(
            (
                new.payment_window_minutes,
                new.offer_window_minutes,
                new.refund_policy.until_hours_before_start
            ),
            (30, 720, 24)
        );
    }

    fn validate(new: NewEvent) -> Result<Event, DomainError> {
        new.validate(
            EventId::from_uuid(Uuid::nil()),
            UserId::from_uuid(Uuid::nil()),
            datetime!(2027-01-01 0:00 UTC),
        )
    }

    fn invalid_fields(new: NewEvent) -> Vec<&'static str> {
        match validate(new) {
            Err(DomainError::Invalid(errors)) => errors.iter().map(|e| e.field).collect(),
            Ok(_) => vec![],
        }
    }

    #[test]
    fn a_valid_event_is_trimmed_and_gets_a_derived_slug() {
        let event = validate(new_event()).unwrap();
        assert_eq!(event.name, "Rust Meetup #4!");
        assert_eq!(event.slug, "rust-meetup-4-00000000");
        assert!(is_slug(&event.slug));
    }

    #[test]
    fn events_of_one_name_made_in_one_minute_get_their_own_slugs() {
        let slugs: std::collections::HashSet<String> = (0..50)
            .map(|_| derive_slug("Rust Meetup", EventId::now_v7()))
            .collect();
        assert_eq!(slugs.len(), 50);
    }

    #[test]
    fn time_zones_are_iana_names_defaulting_to_utc() {
        assert_eq!(
            validate(new_event()).unwrap().timezone,
            chrono_tz::Europe::Berlin
        );
        for bad in ["Mars/Olympus", "europe/berlin", "+02:00", ""] {
            let mut new = new_event();
            new.timezone = bad.into();
            assert_eq!(invalid_fields(new), ["timezone"], "{bad}");
        }
        let absent: NewEvent = serde_json::from_value(serde_json::json!({
            "name": "N", "date": "2027-03-01T18:00:00Z", "venue": "V", "max_capacity": 1
        }))
        .unwrap();
        assert_eq!(absent.timezone, "UTC");
        let event = validate(new_event()).unwrap();
        let mut stored = serde_json::to_value(&event).unwrap();
        assert_eq!(stored["timezone"], "Europe/Berlin");
        stored.as_object_mut().unwrap().remove("timezone");
        let older: Event = serde_json::from_value(stored).unwrap();
        assert_eq!(
            older.timezone,
            Tz::UTC,
            "events stored before the field read as UTC"
        );
    }

    #[test]
    fn dates_must_be_in_order() {
        let mut new = new_event();
        new.end_date = Some(new.date);
        assert_eq!(invalid_fields(new), ["end_date"]);
    }

    #[test]
    fn capacity_currency_slug_and_status_are_checked() {
        let mut new = new_event();
        new.max_capacity = 0;
        new.currency = "eur".into();
        new.slug = Some("Bad Slug".into());
        new.status = EventStatus::Cancelled;
        assert_eq!(
            invalid_fields(new),
            ["status", "slug", "max_capacity", "currency"]
        );
    }

    #[test]
    fn currencies_are_real_iso_4217_codes() {
        let mut new = new_event();
        new.currency = "XYZ".into();
        assert_eq!(invalid_fields(new), ["currency"]);
        let mut new = new_event();
        new.currency = "JPY".into();
        assert_eq!(invalid_fields(new), Vec::<&str>::new());
    }

    #[test]
    fn an_update_keeps_identity_and_a_cancelled_event_stays_cancelled() {
        let current = validate(new_event()).unwrap();
        let mut change = new_event();
        change.name = "Renamed".into();
        change.max_capacity = 10;
        let updated = change.validate_update(&current).unwrap();
        assert_eq!(
            (updated.id, updated.created_at),
            (current.id, current.created_at)
        );
        assert_eq!(updated.slug, current.slug, "no slug given keeps the slug");
        assert_eq!(updated.max_capacity, 10);
        let cancelled = Event {
            status: EventStatus::Cancelled,
            ..current
        };
        match new_event().validate_update(&cancelled) {
            Err(DomainError::Invalid(errors)) => assert_eq!(errors[0].field, "status"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn slugs() {
        for ok in ["a", "rust-2027", "x1-y2-z3"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "A", "a_b", "ä"] {
            assert!(!is_slug(bad), "{bad}");
        }
        assert_eq!(
            derive_slug("!!!", EventId::from_uuid(Uuid::nil())),
            "00000000"
        );
    }

    #[test]
    fn an_event_is_over_at_its_end_or_a_day_after_its_start() {
        let with_end = validate(new_event()).unwrap();
        assert_eq!(with_end.ends_at(), datetime!(2027-03-01 21:00 UTC));
        assert_eq!(
            with_end.refuse_ended(datetime!(2027-03-01 20:59:59 UTC)),
            Ok(())
        );
        assert_eq!(
            with_end.refuse_ended(datetime!(2027-03-01 21:00 UTC)),
            Err(Refusal::EventEnded)
        );
        let open_ended = Event {
            end_date: None,
            ..with_end
        };
        assert_eq!(open_ended.ends_at(), datetime!(2027-03-02 18:00 UTC));
    }
}

#[cfg(test)]
mod money_tests {
    use super::*;
    use crate::domain::fixtures::event;
    use time::macros::datetime;

    #[test]
    fn free_events_hold_nothing_and_promote_at_once() {
        let free = event(0);
        let now = datetime!(2027-02-01 12:00 UTC);
        assert_eq!(free.hold_at(now), None);
        assert_eq!(free.promotion_at(now), Promotion::Confirm);
        assert_eq!(Promotion::Confirm.hold(), None);
    }

    #[test]
    fn paid_events_hold_for_the_payment_window_and_offer_for_the_offer_window() {
        let paid = event(1500);
        let now = datetime!(2027-02-01 12:00 UTC);
        let hold = paid.hold_at(now).unwrap();
        assert_eq!(hold.expires_at, datetime!(2027-02-01 12:30 UTC));
        assert_eq!((hold.amount_cents, hold.currency.as_str()), (1500, "EUR"));
        assert!(!hold.offer);
        let offer = paid.promotion_at(now).hold().unwrap();
        assert_eq!(offer.expires_at, datetime!(2027-02-02 0:00 UTC));
        assert!(offer.offer);
    }

    #[test]
    fn refunds_follow_the_policy_unless_an_admin_cancels() {
        let paid = event(1500);
        let just_in_time = datetime!(2027-02-28 18:00 UTC);
        let too_late = datetime!(2027-02-28 18:00:01 UTC);
        assert!(paid.refunds_at(just_in_time, false));
        assert!(!paid.refunds_at(too_late, false));
        assert!(paid.refunds_at(too_late, true));
    }
}
