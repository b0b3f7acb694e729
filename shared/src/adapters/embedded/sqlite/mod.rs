//! The embedded store: every write-side port and the read model over one SQLite database
//! (a file under `.local/`, or `:memory:` in tests), a file per port. Invariants hold by
//! the same means as in DynamoDB — one transaction with conditional statements and unique
//! constraints — never by reading first in application code.
//!
//! The schema is `migrations/*.sql`, one step per file, applied in order; `PRAGMA
//! user_version` records how many steps a database file has had, so a `.local/` database
//! from an older build is upgraded in place. Steps are append-only: never edit one that
//! has shipped.

mod events;
mod idempotency;
mod identity;
mod outbox;
mod payments;
mod queues;
mod read_model;
mod registrations;
mod seats;
mod users;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::adapters::cursor;
use crate::domain::Envelope;
use crate::ports::{Committed, Page, StoreError};

pub use queues::{QueuedMessage, Settlement};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_read_waitlisted.sql"),
    include_str!("migrations/0003_lifecycle.sql"),
    include_str!("migrations/0004_identity.sql"),
    include_str!("migrations/0005_events_api.sql"),
    include_str!("migrations/0006_payments.sql"),
    include_str!("migrations/0007_queues.sql"),
    include_str!("migrations/0008_queue_attributes.sql"),
    include_str!("migrations/0009_revocations.sql"),
];

/// Store and read model over one SQLite connection. The mutex serializes transactions,
/// as a single-writer SQLite database does anyway.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Maps a failed statement: a unique-constraint violation is `taken` (the guard the
/// constraint is), anything else the store being unavailable.
fn unique_or(taken: StoreError) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |e| {
        if is_unique_violation(&e) {
            taken
        } else {
            unavailable(e)
        }
    }
}

/// Records `outbox` inside the write's transaction `tx`.
fn insert_outbox(tx: &rusqlite::Transaction<'_>, outbox: &[Envelope]) -> Result<(), StoreError> {
    for envelope in outbox {
        tx.execute(
            "INSERT INTO outbox (id, envelope) VALUES (?1, ?2)",
            params![envelope.id.to_string(), to_json(envelope)?],
        )
        .map_err(unavailable)?;
    }
    Ok(())
}

/// Writes `outbox` in `tx` and commits it: the write, answering `value`.
fn commit<T>(
    tx: rusqlite::Transaction<'_>,
    value: T,
    outbox: Vec<Envelope>,
) -> Result<Committed<T>, StoreError> {
    insert_outbox(&tx, &outbox)?;
    tx.commit().map_err(unavailable)?;
    Ok(Committed::new(value, outbox))
}

/// A page from `rows` read one past `limit`, each with the position a page after it
/// resumes from: that extra row only says another page exists, and the cursor is the
/// position of the last row kept.
fn page_of<T, P: Serialize>(mut rows: Vec<(T, P)>, limit: usize) -> Result<Page<T>, StoreError> {
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|(_, position)| cursor::encode(position))
            .transpose()?
    } else {
        None
    };
    Ok(Page {
        items: rows.into_iter().map(|(item, _)| item).collect(),
        next_cursor,
    })
}

impl SqliteStore {
    /// Opens (or creates) the database file at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        // WAL lets readers proceed during a write and survives a crash mid-transaction.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(unavailable)?;
        Self::with_schema(conn)
    }

    /// A fresh database in memory (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_schema(Connection::open_in_memory().map_err(unavailable)?)
    }

    fn with_schema(mut conn: Connection) -> Result<Self, StoreError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(unavailable)?;
        let applied: usize = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(unavailable)?;
        for step in MIGRATIONS.iter().skip(applied) {
            tx.execute_batch(step).map_err(unavailable)?;
        }
        tx.pragma_update(None, "user_version", MIGRATIONS.len())
            .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` on the connection on a blocking thread, off the async executor.
    async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Unavailable("sqlite connection mutex poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(unavailable)?
    }

    /// The JSON `data` column `sql` selects for `key`, as a `T`.
    async fn get_json<T>(&self, sql: &'static str, key: String) -> Result<Option<T>, StoreError>
    where
        T: DeserializeOwned + Send + 'static,
    {
        self.run(move |conn| {
            conn.query_row(sql, [key], |row| row.get::<_, String>(0))
                .optional()
                .map_err(unavailable)?
                .map(|json| from_json(&json))
                .transpose()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_of_an_older_version_is_migrated_in_place() {
        let path = std::env::temp_dir().join(format!(
            "evreg-migrate-{}.sqlite3",
            uuid::Uuid::new_v4().simple()
        ));
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO read_events (id, registered) VALUES ('e1', 3)",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        let version: usize = store
            .run(|conn| {
                conn.pragma_query_value(None, "user_version", |row| row.get(0))
                    .map_err(unavailable)
            })
            .await
            .unwrap();
        assert_eq!(version, MIGRATIONS.len());
        let waitlisted: i64 = store
            .run(|conn| {
                conn.query_row(
                    "SELECT waitlisted FROM read_events WHERE id = 'e1'",
                    [],
                    |row| row.get(0),
                )
                .map_err(unavailable)
            })
            .await
            .unwrap();
        assert_eq!(waitlisted, 0, "old rows gain the new counter");
        drop(store);
        SqliteStore::open(&path).expect("reopening applies nothing twice");
        let _ = std::fs::remove_file(&path);
    }
}
