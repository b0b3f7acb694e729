//! The organizer's event updates, filtered listings and reports over SQLite. As in
//! DynamoDB, the capacity check is the UPDATE's own condition and the slug's uniqueness
//! the `events.slug` UNIQUE constraint, in one transaction.

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

use super::sqlite::{
    from_json, insert_outbox, is_unique_violation, to_json, unavailable, SqliteStore,
};
use crate::domain::{sortable_time, Envelope, Event, EventReport, EventStats};
use crate::ports::{
    search_key, EventStore, ListingOrder, ListingQuery, Page, StoreError, UpdateEventError,
};

#[async_trait]
impl EventStore for SqliteStore {
    async fn update_event(
        &self,
        event: &Event,
        _previous_slug: &str,
        events: &[Envelope],
    ) -> Result<(), UpdateEventError> {
        let (event, events) = (event.clone(), events.to_vec());
        // The outer result is the store's health, the inner one the refusal.
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let id = event.id.to_string();
            // The slug column is UNIQUE, so this very UPDATE releases the old slug and takes
            // the new one.
            let changed = tx.execute(
                "UPDATE events SET slug = ?2, status = ?3, max_capacity = ?4, data = ?5
                 WHERE id = ?1 AND confirmed <= ?4",
                params![
                    id,
                    event.slug,
                    event.status.as_str(),
                    event.max_capacity,
                    to_json(&event)?
                ],
            );
            match changed {
                Err(e) if is_unique_violation(&e) => return Ok(Err(StoreError::SlugTaken.into())),
                Err(e) => return Err(unavailable(e)),
                Ok(0) => {
                    let confirmed: Option<u32> = tx
                        .query_row("SELECT confirmed FROM events WHERE id = ?1", [&id], |row| {
                            row.get(0)
                        })
                        .optional()
                        .map_err(unavailable)?;
                    return Ok(Err(match confirmed {
                        None => StoreError::EventNotFound.into(),
                        Some(confirmed) => UpdateEventError::CapacityBelowConfirmed { confirmed },
                    }));
                }
                Ok(_) => {}
            }
            insert_outbox(&tx, &events)?;
            tx.commit().map_err(unavailable)?;
            Ok(Ok(()))
        })
        .await?
    }
}

/// Where a filtered listing page resumes: the last row's sort key and id.
#[derive(Serialize, Deserialize)]
struct Resume {
    key: String,
    id: Uuid,
}

/// What `apply` stores beside a listing so that [`ListingQuery`] is plain SQL.
pub(crate) struct ListingKeys {
    pub created_key: String,
    pub venue_key: String,
    pub search_text: String,
}

impl ListingKeys {
    pub(crate) fn of(event: &Event) -> Self {
        Self {
            created_key: sortable_time(event.created_at),
            venue_key: search_key(&event.venue),
            search_text: search_key(&format!("{}\n{}", event.name, event.description)),
        }
    }
}

impl SqliteStore {
    pub(crate) async fn listings_page(
        &self,
        query: &ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError> {
        let resume: Option<Resume> = cursor
            .map(|raw| {
                URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?;
        let query = query.clone();
        self.run(move |conn| {
            // Date order ascends on the event date; newest descends on creation time.
            let (key_column, compare, direction) = match query.order {
                ListingOrder::Date => ("sort_key", ">", "ASC"),
                ListingOrder::Newest => ("created_key", "<", "DESC"),
            };
            let sql = format!(
                "SELECT listing, {key_column}, registered, waitlisted, cancelled, checked_in, id
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
                            EventStats::from_counters(
                                row.get(2)?,
                                row.get(3)?,
                                row.get(4)?,
                                row.get(5)?,
                            ),
                        ))
                    },
                )
                .map_err(unavailable)?;
            let mut items = Vec::with_capacity(limit + 1);
            for row in rows {
                let (listing, key, stats) = row.map_err(unavailable)?;
                items.push((from_json::<Event>(&listing)?, stats, key));
            }
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items
                    .last()
                    .map(|(listing, _, key)| {
                        to_json(&Resume {
                            key: key.clone(),
                            id: listing.id,
                        })
                        .map(|json| URL_SAFE_NO_PAD.encode(json))
                    })
                    .transpose()?
            } else {
                None
            };
            Ok(Page {
                items: items.into_iter().map(|(l, s, _)| (l, s)).collect(),
                next_cursor,
            })
        })
        .await
    }

    pub(crate) async fn event_report(&self, event_id: Uuid) -> Result<EventReport, StoreError> {
        self.run(move |conn| {
            let id = event_id.to_string();
            let stats = conn
                .query_row(
                    "SELECT registered, waitlisted, cancelled, checked_in FROM read_events WHERE id = ?1",
                    [&id],
                    |row| {
                        Ok(EventStats::from_counters(row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                    },
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
                per_day.push((parse_day(&day)?, u64::try_from(count).unwrap_or(0)));
            }
            Ok(EventReport { stats, per_day })
        })
        .await
    }
}

const DAY_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

pub(crate) fn format_day(day: Date) -> Result<String, StoreError> {
    day.format(DAY_FORMAT)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn parse_day(text: &str) -> Result<Date, StoreError> {
    Date::parse(text, DAY_FORMAT).map_err(|e| StoreError::Corrupt(e.to_string()))
}
