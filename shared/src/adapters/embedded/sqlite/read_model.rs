//! [`ReadModel`] over SQLite: `read_events` holds each event's listing (JSON) with its
//! counters and the columns the `GET /events` filters compare (`sort_key` by date,
//! `created_key`, `venue_key`, `search_text`); `read_event_days` the report's registrations
//! per day; `read_applied` the envelope ids applied, so each applies once.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{from_json, page_of, to_json, unavailable, SqliteStore};
use crate::adapters::cursor;
use crate::domain::calendar::{format_day, parse_day};
use crate::domain::{
    sortable_time, Event, EventId, EventReport, EventStats, EventStatus, MoneyTotals,
    ProjectionChange,
};
use crate::ports::{search_key, ListingOrder, ListingQuery, Page, ReadModel, StoreError};

/// Where a filtered listing page resumes: after this sort key and id.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resume {
    key: String,
    id: EventId,
}

/// What `apply` stores beside a listing so that [`ListingQuery`] is plain SQL.
struct ListingKeys {
    created_key: String,
    venue_key: String,
    search_text: String,
}

impl ListingKeys {
    fn of(event: &Event) -> Self {
        Self {
            created_key: sortable_time(event.created_at),
            venue_key: search_key(&event.venue),
            search_text: search_key(&format!("{}\n{}", event.name, event.description)),
        }
    }
}

#[async_trait]
impl ReadModel for SqliteStore {
    async fn apply(&self, dedupe_id: Uuid, change: &ProjectionChange) -> Result<bool, StoreError> {
        let change = change.clone();
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let first_time = tx
                .execute(
                    "INSERT OR IGNORE INTO read_applied (dedupe_id) VALUES (?1)",
                    [dedupe_id.to_string()],
                )
                .map_err(unavailable)?
                == 1;
            if !first_time {
                return Ok(false);
            }
            match &change {
                ProjectionChange::Listing(listing) => {
                    let keys = ListingKeys::of(listing);
                    // Only a newer listing replaces the stored one (envelope ids are
                    // UUIDv7, ordered by time), so delivery order does not matter.
                    tx.execute(
                        "INSERT INTO read_events (id, listing, sort_key, published, created_key,
                           venue_key, search_text, listing_version)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                         ON CONFLICT (id) DO UPDATE SET
                           listing = excluded.listing, sort_key = excluded.sort_key,
                           published = excluded.published, created_key = excluded.created_key,
                           venue_key = excluded.venue_key, search_text = excluded.search_text,
                           listing_version = excluded.listing_version
                         WHERE listing_version IS NULL OR listing_version < excluded.listing_version",
                        params![
                            listing.id.to_string(),
                            to_json(listing)?,
                            sortable_time(listing.date),
                            listing.status == EventStatus::Published,
                            keys.created_key,
                            keys.venue_key,
                            keys.search_text,
                            dedupe_id.to_string()
                        ],
                    )
                    .map_err(unavailable)?;
                }
                ProjectionChange::Counters {
                    event_id,
                    delta,
                    registered_on,
                    money,
                } => {
                    if let Some(money) = money {
                        tx.execute(
                            "INSERT INTO read_event_money (event_id, currency, received, refunded, pending)
                             VALUES (?1, ?2, ?3, ?4, ?5)
                             ON CONFLICT (event_id, currency) DO UPDATE SET
                               received = received + excluded.received,
                               refunded = refunded + excluded.refunded,
                               pending = pending + excluded.pending",
                            params![
                                event_id.to_string(),
                                money.currency,
                                money.received,
                                money.refunded,
                                money.pending
                            ],
                        )
                        .map_err(unavailable)?;
                    }
                    if let Some(day) = registered_on {
                        tx.execute(
                            "INSERT INTO read_event_days (event_id, day, registrations) VALUES (?1, ?2, 1)
                             ON CONFLICT (event_id, day) DO UPDATE SET registrations = registrations + 1",
                            params![event_id.to_string(), format_day(*day)],
                        )
                        .map_err(unavailable)?;
                    }
                    tx.execute(
                        "INSERT INTO read_events (id, registered, waitlisted, cancelled, checked_in, pending)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (id) DO UPDATE SET registered = registered + excluded.registered,
                           waitlisted = waitlisted + excluded.waitlisted,
                           cancelled = cancelled + excluded.cancelled,
                           checked_in = checked_in + excluded.checked_in,
                           pending = pending + excluded.pending",
                        params![
                            event_id.to_string(),
                            delta.registered,
                            delta.waitlisted,
                            delta.cancelled,
                            delta.checked_in,
                            delta.pending
                        ],
                    )
                    .map_err(unavailable)?;
                }
            }
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }

    async fn stats(&self, event_id: EventId) -> Result<EventStats, StoreError> {
        self.run(move |conn| {
            let stats = conn
                .query_row(
                    "SELECT registered, waitlisted, cancelled, checked_in, pending FROM read_events WHERE id = ?1",
                    [event_id.to_string()],
                    |row| stats_at(row, 0),
                )
                .optional()
                .map_err(unavailable)?;
            Ok(stats.unwrap_or_default())
        })
        .await
    }

    async fn listings(
        &self,
        query: &ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError> {
        let resume = cursor.map(cursor::decode::<Resume>).transpose()?;
        let query = query.clone();
        self.run(move |conn| {
            // Date order ascends on the event date; newest descends on creation time.
            let (key_column, compare, direction) = match query.order {
                ListingOrder::Date => ("sort_key", ">", "ASC"),
                ListingOrder::Newest => ("created_key", "<", "DESC"),
            };
            let sql = format!(
                "SELECT listing, {key_column}, registered, waitlisted, cancelled, checked_in, pending, id
                 FROM read_events
                 WHERE published = 1
                   AND (?1 IS NULL OR ({key_column}, id) {compare} (?1, ?2))
                   AND (?3 IS NULL OR sort_key >= ?3)
                   AND (?4 IS NULL OR sort_key <= ?4)
                   AND (?5 IS NULL OR venue_key = ?5)
                   AND (?6 IS NULL OR instr(search_text, ?6) > 0)
                 ORDER BY {key_column} {direction}, id {direction} LIMIT ?7"
            );
            let mut statement = conn.prepare_cached(&sql).map_err(unavailable)?;
            let (resume_key, resume_id) = match &resume {
                Some(r) => (Some(r.key.clone()), Some(r.id.to_string())),
                None => (None, None),
            };
            let rows = statement
                .query_map(
                    params![
                        resume_key,
                        resume_id,
                        query.from.map(sortable_time),
                        query.to.map(sortable_time),
                        query.venue.as_deref().map(search_key),
                        query.text.as_deref().map(search_key),
                        limit as i64 + 1
                    ],
                    |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, String>(1)?,
                            stats_at(row, 2)?,
                        ))
                    },
                )
                .map_err(unavailable)?;
            let mut items = Vec::with_capacity(limit + 1);
            for row in rows {
                let (listing, key, stats) = row.map_err(unavailable)?;
                let listing = from_json::<Event>(&listing)?;
                let resume = Resume {
                    key,
                    id: listing.id,
                };
                items.push(((listing, stats), resume));
            }
            page_of(items, limit)
        })
        .await
    }

    async fn report(&self, event_id: EventId) -> Result<EventReport, StoreError> {
        self.run(move |conn| {
            let id = event_id.to_string();
            let stats = conn
                .query_row(
                    "SELECT registered, waitlisted, cancelled, checked_in, pending FROM read_events WHERE id = ?1",
                    [&id],
                    |row| stats_at(row, 0),
                )
                .optional()
                .map_err(unavailable)?
                .unwrap_or_default();
            let mut statement = conn
                .prepare_cached(
                    "SELECT day, registrations FROM read_event_days WHERE event_id = ?1 ORDER BY day",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map([&id], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))
                .map_err(unavailable)?;
            let mut per_day = Vec::new();
            for row in rows {
                let (day, count) = row.map_err(unavailable)?;
                let day = parse_day(&day).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                per_day.push((day, u64::try_from(count).unwrap_or(0)));
            }
            let mut statement = conn
                .prepare_cached(
                    "SELECT currency, received, refunded, pending FROM read_event_money
                     WHERE event_id = ?1 ORDER BY currency",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map([&id], |row| {
                    Ok(MoneyTotals::from_counters(
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                    ))
                })
                .map_err(unavailable)?;
            let money = rows.collect::<Result<_, _>>().map_err(unavailable)?;
            Ok(EventReport {
                stats,
                per_day,
                money,
            })
        })
        .await
    }
}

/// The counters in five consecutive columns from `first`.
fn stats_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<EventStats> {
    let count = |i: usize| row.get::<_, i64>(first + i);
    Ok(EventStats::from_counters(
        count(0)?,
        count(1)?,
        count(2)?,
        count(3)?,
        count(4)?,
    ))
}
