//! The CQRS read side: event listings with counters and the organizer's report, written
//! only by the projection worker, idempotently.

use async_trait::async_trait;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Page, StoreError};
use crate::domain::{Event, EventId, EventReport, EventStats, ProjectionChange};

/// The read model (a DynamoDB table of its own in AWS; tables beside the store in SQLite).
#[async_trait]
pub trait ReadModel: Send + Sync {
    /// Applies `change` once per `dedupe_id` (the domain event's envelope id): returns
    /// false, changing nothing, when that id was applied before (at-least-once delivery).
    async fn apply(&self, dedupe_id: Uuid, change: &ProjectionChange) -> Result<bool, StoreError>;

    /// The event's counters; all zero for an event nothing was projected for yet.
    async fn stats(&self, event_id: EventId) -> Result<EventStats, StoreError>;

    /// Published events matching `query`, in its order, `limit` at a time. The cursor is
    /// the adapter's; the route signs it before it leaves the API. Fails with
    /// [`StoreError::InvalidCursor`].
    async fn listings(
        &self,
        query: &ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError>;

    /// The counters and registrations per day of one event.
    async fn report(&self, event_id: EventId) -> Result<EventReport, StoreError>;
}

/// The order of `GET /events`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListingOrder {
    /// By event date, soonest first (`sort=date`).
    #[default]
    Date,
    /// By creation time, newest first (`sort=newest`).
    Newest,
}

impl ListingOrder {
    /// The `sort` query value that asks for this order.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Date => "date",
            Self::Newest => "newest",
        }
    }
}

/// The filters of `GET /events`; every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListingQuery {
    /// Events on or after this time.
    pub from: Option<OffsetDateTime>,
    /// Events on or before this time.
    pub to: Option<OffsetDateTime>,
    /// The venue, compared case-insensitively.
    pub venue: Option<String>,
    /// Text in the name or description, case-insensitively.
    pub text: Option<String>,
    /// The order of the results.
    pub order: ListingOrder,
}

impl ListingQuery {
    /// One string per query and one query per string (a JSON array of the fields, times
    /// in RFC 3339 UTC): what a signed cursor is bound to, so it pages only this query.
    pub fn canonical(&self) -> String {
        let time = |at: Option<OffsetDateTime>| {
            at.and_then(|at| at.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok())
        };
        serde_json::json!([
            self.order.as_str(),
            time(self.from),
            time(self.to),
            self.venue,
            self.text
        ])
        .to_string()
    }
}

/// The form in which adapters store and compare text for [`ListingQuery`]: trimmed Unicode
/// lower case, so both adapters (and SQLite, whose `lower()` is ASCII-only) agree, in
/// Unicode Normalization Form C, so `Café` typed with a combining accent finds `Café`
/// typed with a precomposed one (UAX #15).
pub fn search_key(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.trim().to_lowercase().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn search_keys_fold_case_and_unicode_spelling() {
        assert_eq!(search_key(" CAFE\u{301} "), search_key("caf\u{e9}"));
        assert_eq!(search_key("Straße"), "straße");
    }

    #[test]
    fn canonical_forms_differ_exactly_when_queries_do() {
        let base = ListingQuery::default();
        let with_venue = ListingQuery {
            venue: Some("Hall A".into()),
            ..ListingQuery::default()
        };
        let with_text = ListingQuery {
            text: Some("Hall A".into()),
            ..ListingQuery::default()
        };
        let newest = ListingQuery {
            order: ListingOrder::Newest,
            ..ListingQuery::default()
        };
        let forms = [&base, &with_venue, &with_text, &newest].map(ListingQuery::canonical);
        for (i, a) in forms.iter().enumerate() {
            for b in &forms[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let from_utc = ListingQuery {
            from: Some(datetime!(2027-03-01 18:00 UTC)),
            ..ListingQuery::default()
        };
        let from_offset = ListingQuery {
            from: Some(datetime!(2027-03-01 20:00 +2)),
            ..ListingQuery::default()
        };
        assert_eq!(
            from_utc.canonical(),
            from_offset.canonical(),
            "one instant, one form"
        );
        assert_eq!(base.canonical(), ListingQuery::default().canonical());
    }
}
