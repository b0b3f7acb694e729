//! [`EventStore`] over SQLite: the `events` row carries the `confirmed` seat counter beside
//! the event's JSON; the slug's uniqueness is the `events.slug` UNIQUE constraint, and the
//! capacity check is the UPDATE's own condition, in one transaction.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{commit, is_unique_violation, to_json, unavailable, unique_or, SqliteStore};
use crate::domain::{Envelope, Event, EventId};
use crate::ports::{Committed, EventStore, StoreError, UpdateEventError};

#[async_trait]
impl EventStore for SqliteStore {
    async fn create_event(
        &self,
        event: &Event,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        let (event, outbox) = (event.clone(), outbox.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            tx.execute(
                "INSERT INTO events (id, slug, status, max_capacity, data)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    event.id.to_string(),
                    event.slug,
                    event.status.as_str(),
                    event.max_capacity,
                    to_json(&event)?
                ],
            )
            .map_err(unique_or(StoreError::SlugTaken))?;
            commit(tx, (), outbox)
        })
        .await
    }

    async fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        self.get_json("SELECT data FROM events WHERE id = ?1", id.to_string())
            .await
    }

    async fn event_by_slug(&self, slug: &str) -> Result<Option<Event>, StoreError> {
        self.get_json("SELECT data FROM events WHERE slug = ?1", slug.to_owned())
            .await
    }

    async fn update_event(
        &self,
        event: &Event,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, UpdateEventError> {
        let (event, outbox) = (event.clone(), outbox.to_vec());
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
            commit(tx, (), outbox).map(Ok)
        })
        .await?
    }

    async fn confirmed_count(&self, id: EventId) -> Result<u32, StoreError> {
        self.run(move |conn| {
            conn.query_row(
                "SELECT confirmed FROM events WHERE id = ?1",
                [id.to_string()],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?
            .ok_or(StoreError::EventNotFound)
        })
        .await
    }
}
