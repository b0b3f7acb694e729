//! SQLite store and read model: one file under `.local/` (or `:memory:` in tests).
//! Invariants hold by the same means as in DynamoDB — one transaction with conditional
//! statements and unique constraints — never by reading first in application code.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::sqlite_events::{format_day, ListingKeys};
use crate::domain::{
    cancellation_events, sortable_time, Envelope, Event, EventReport, EventStats, EventStatus,
    ProjectionChange, Registration, RegistrationStatus, User,
};
use crate::ports::{
    refuse_check_in, refuse_uncancellable, Cancellation, Claim, ListingQuery, Page, ReadModel,
    Store, StoreError,
};

/// The schema, one step per version; `PRAGMA user_version` records how many steps a
/// database file has had, so a `.local/` database from an older build is upgraded in place.
/// Steps are append-only: never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    "
CREATE TABLE IF NOT EXISTS users (
    id    TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    data  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id           TEXT PRIMARY KEY,
    slug         TEXT NOT NULL UNIQUE,
    status       TEXT NOT NULL,
    max_capacity INTEGER NOT NULL,
    confirmed    INTEGER NOT NULL DEFAULT 0,
    data         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS registrations (
    id       TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    email    TEXT NOT NULL,
    data     TEXT NOT NULL,
    UNIQUE (event_id, email)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    id       TEXT NOT NULL UNIQUE,
    envelope TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS read_events (
    id         TEXT PRIMARY KEY,
    listing    TEXT,
    sort_key   TEXT,
    published  INTEGER NOT NULL DEFAULT 0,
    registered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS read_events_published ON read_events (published, sort_key, id);
CREATE TABLE IF NOT EXISTS read_applied (
    dedupe_id TEXT PRIMARY KEY
);
",
    "ALTER TABLE read_events ADD COLUMN waitlisted INTEGER NOT NULL DEFAULT 0;",
    // Cancellation frees the (event, email) pair, so uniqueness covers live registrations
    // only; status and creation time become columns for the waitlist order and listings.
    "
CREATE TABLE registrations_v3 (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    email      TEXT NOT NULL,
    status     TEXT NOT NULL,
    sort_key   TEXT NOT NULL,
    data       TEXT NOT NULL
);
INSERT INTO registrations_v3 (id, event_id, email, status, sort_key, data)
    SELECT id, event_id, email, json_extract(data, '$.status'),
           json_extract(data, '$.created_at') || '#' || id, data
    FROM registrations;
DROP TABLE registrations;
ALTER TABLE registrations_v3 RENAME TO registrations;
CREATE UNIQUE INDEX registrations_live_email ON registrations (event_id, email)
    WHERE status <> 'CANCELLED';
CREATE INDEX registrations_by_event ON registrations (event_id, sort_key);
CREATE INDEX registrations_by_status ON registrations (event_id, status, sort_key);
ALTER TABLE read_events ADD COLUMN cancelled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE read_events ADD COLUMN checked_in INTEGER NOT NULL DEFAULT 0;
CREATE TABLE tickets (
    registration_id TEXT PRIMARY KEY,
    ticket          TEXT NOT NULL
);
CREATE TABLE idempotency (
    key         TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    outcome     TEXT,
    lease_until INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
",
    // Sessions and account recovery (see sqlite_identity.rs); secrets are stored hashed.
    "
CREATE TABLE refresh_families (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_families_by_user ON refresh_families (user_id);
CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
CREATE TABLE login_failures (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    attempts     INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
CREATE TABLE password_resets (
    hash       TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
",
    // The organizer's events API: filter columns beside each listing (creation time for
    // newest-first, lower-cased venue and text), the version of the listing last applied
    // (its envelope id, a UUIDv7), and the report's registrations per day.
    "
ALTER TABLE read_events ADD COLUMN created_key TEXT;
ALTER TABLE read_events ADD COLUMN venue_key TEXT;
ALTER TABLE read_events ADD COLUMN search_text TEXT;
ALTER TABLE read_events ADD COLUMN listing_version TEXT;
CREATE INDEX read_events_newest ON read_events (published, created_key, id);
CREATE TABLE read_event_days (
    event_id      TEXT NOT NULL,
    day           TEXT NOT NULL,
    registrations INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (event_id, day)
);
",
];

/// Store and read model over one SQLite connection. The mutex serializes transactions,
/// as a single-writer SQLite database does anyway.
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

pub(crate) fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == ErrorCode::ConstraintViolation)
}

pub(crate) fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn insert_outbox(
    tx: &rusqlite::Transaction<'_>,
    events: &[Envelope],
) -> Result<(), StoreError> {
    for envelope in events {
        tx.execute(
            "INSERT INTO outbox (id, envelope) VALUES (?1, ?2)",
            params![envelope.id.to_string(), to_json(envelope)?],
        )
        .map_err(unavailable)?;
    }
    Ok(())
}

/// Registrations list in the order they were made; the id breaks ties.
fn registration_sort_key(registration: &Registration) -> String {
    format!(
        "{}#{}",
        sortable_time(registration.created_at),
        registration.id
    )
}

fn registration_in<P: rusqlite::Params>(
    tx: &rusqlite::Transaction<'_>,
    condition: &str,
    params: P,
) -> Result<Option<Registration>, StoreError> {
    tx.query_row(
        &format!("SELECT data FROM registrations WHERE {condition}"),
        params,
        |row| row.get::<_, String>(0),
    )
    .optional()
    .map_err(unavailable)?
    .map(|json| from_json(&json))
    .transpose()
}

fn set_registration(
    tx: &rusqlite::Transaction<'_>,
    registration: &Registration,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE registrations SET status = ?2, data = ?3 WHERE id = ?1",
        params![
            registration.id.to_string(),
            registration.status.as_str(),
            to_json(registration)?
        ],
    )
    .map_err(unavailable)?;
    Ok(())
}

impl SqliteStore {
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(unavailable)?;
        // WAL lets readers proceed during a write and survives a crash mid-transaction.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(unavailable)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(unavailable)?;
        Self::with_schema(conn)
    }

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
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
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
    /// One transaction, as the DynamoDB adapter's: the condition on the event (`condition`,
    /// an UPDATE of the event row by id `?1`), the registration under its (event, email)
    /// unique constraint, and the outbox. A refusal names a duplicate first, then the
    /// event's state; `refusal` decides for a published event, given its waitlist flag.
    async fn register_with(
        &self,
        condition: &'static str,
        registration: &Registration,
        events: &[Envelope],
        refusal: fn(bool) -> StoreError,
    ) -> Result<(), StoreError> {
        let (registration, events) = (registration.clone(), events.to_vec());
        self.run(move |conn| {
            let event_id = registration.event_id.to_string();
            // IMMEDIATE takes the write lock up front, so the condition and the insert
            // cannot interleave with another registration.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let condition_held = tx.execute(condition, [&event_id]).map_err(unavailable)? == 1;
            let inserted = tx.execute(
                "INSERT INTO registrations (id, event_id, email, status, sort_key, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    registration.id.to_string(),
                    event_id,
                    registration.email,
                    registration.status.as_str(),
                    registration_sort_key(&registration),
                    to_json(&registration)?
                ],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateRegistration),
                other => other.map_err(unavailable)?,
            };
            if !condition_held {
                // Dropping the transaction rolls it back; say why the condition failed.
                let event: Option<(String, bool)> = tx
                    .query_row(
                        "SELECT status, json_extract(data, '$.waitlist_enabled') = 1
                         FROM events WHERE id = ?1",
                        [&event_id],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
                    .map_err(unavailable)?;
                return Err(match event {
                    None => StoreError::EventNotFound,
                    Some((status, _)) if status != "PUBLISHED" => StoreError::EventNotOpen,
                    Some((_, waitlist_on)) => refusal(waitlist_on),
                });
            }
            insert_outbox(&tx, &events)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, user: &User, events: &[Envelope]) -> Result<(), StoreError> {
        let (user, events) = (user.clone(), events.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            tx.execute(
                "INSERT INTO users (id, email, data) VALUES (?1, ?2, ?3)",
                params![user.id.to_string(), user.email, to_json(&user)?],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::EmailTaken
                } else {
                    unavailable(e)
                }
            })?;
            insert_outbox(&tx, &events)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.get_json("SELECT data FROM users WHERE id = ?1", id.to_string())
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.get_json("SELECT data FROM users WHERE email = ?1", email.to_owned())
            .await
    }

    async fn create_event(&self, event: &Event, events: &[Envelope]) -> Result<(), StoreError> {
        let (event, events) = (event.clone(), events.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            tx.execute(
                "INSERT INTO events (id, slug, status, max_capacity, data) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    event.id.to_string(),
                    event.slug,
                    event.status.as_str(),
                    event.max_capacity,
                    to_json(&event)?
                ],
            )
            .map_err(|e| if is_unique_violation(&e) { StoreError::SlugTaken } else { unavailable(e) })?;
            insert_outbox(&tx, &events)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn event(&self, id: Uuid) -> Result<Option<Event>, StoreError> {
        self.get_json("SELECT data FROM events WHERE id = ?1", id.to_string())
            .await
    }

    async fn register(
        &self,
        registration: &Registration,
        events: &[Envelope],
    ) -> Result<(), StoreError> {
        self.register_with(
            "UPDATE events SET confirmed = confirmed + 1
             WHERE id = ?1 AND status = 'PUBLISHED' AND confirmed < max_capacity",
            registration,
            events,
            |_waitlist_on| StoreError::EventFull,
        )
        .await
    }

    async fn waitlist(
        &self,
        registration: &Registration,
        events: &[Envelope],
    ) -> Result<(), StoreError> {
        // A no-op UPDATE as a condition check: it matches only a full, published event
        // with its waitlist on.
        self.register_with(
            "UPDATE events SET confirmed = confirmed
             WHERE id = ?1 AND status = 'PUBLISHED' AND confirmed >= max_capacity
               AND json_extract(data, '$.waitlist_enabled') = 1",
            registration,
            events,
            |waitlist_on| {
                if waitlist_on {
                    StoreError::SeatAvailable
                } else {
                    StoreError::EventFull
                }
            },
        )
        .await
    }

    async fn registration(&self, id: Uuid) -> Result<Option<Registration>, StoreError> {
        self.get_json(
            "SELECT data FROM registrations WHERE id = ?1",
            id.to_string(),
        )
        .await
    }

    async fn confirmed_count(&self, event_id: Uuid) -> Result<u32, StoreError> {
        self.run(move |conn| {
            conn.query_row(
                "SELECT confirmed FROM events WHERE id = ?1",
                [event_id.to_string()],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)?
            .ok_or(StoreError::EventNotFound)
        })
        .await
    }

    async fn cancel(&self, id: Uuid, at: OffsetDateTime) -> Result<Cancellation, StoreError> {
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let before = registration_in(&tx, "id = ?1", [id.to_string()])?
                .ok_or(StoreError::RegistrationNotFound)?;
            refuse_uncancellable(&before)?;
            let cancelled = before.with_status(RegistrationStatus::Cancelled);
            set_registration(&tx, &cancelled)?;
            let event_id = before.event_id.to_string();
            let promoted = if before.status == RegistrationStatus::Waitlisted {
                None
            } else {
                let first_waitlisted = registration_in(
                    &tx,
                    "event_id = ?1 AND status = 'WAITLISTED' ORDER BY sort_key LIMIT 1",
                    [&event_id],
                )?;
                match first_waitlisted {
                    Some(waiting) => {
                        let promoted = waiting.with_status(RegistrationStatus::Confirmed);
                        set_registration(&tx, &promoted)?;
                        Some(promoted)
                    }
                    None => {
                        tx.execute(
                            "UPDATE events SET confirmed = confirmed - 1 WHERE id = ?1",
                            [&event_id],
                        )
                        .map_err(unavailable)?;
                        None
                    }
                }
            };
            let events = cancellation_events(&before, promoted.as_ref(), at);
            insert_outbox(&tx, &events)?;
            tx.commit().map_err(unavailable)?;
            Ok(Cancellation {
                cancelled,
                promoted,
                events,
            })
        })
        .await
    }

    async fn check_in(
        &self,
        id: Uuid,
        event_id: Uuid,
        at: OffsetDateTime,
        events: &[Envelope],
    ) -> Result<Registration, StoreError> {
        let events = events.to_vec();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let registration = registration_in(
                &tx,
                "id = ?1 AND event_id = ?2",
                [id.to_string(), event_id.to_string()],
            )?
            .ok_or(StoreError::RegistrationNotFound)?;
            refuse_check_in(&registration)?;
            let checked_in = Registration {
                status: RegistrationStatus::CheckedIn,
                checked_in_at: Some(at),
                ..registration
            };
            set_registration(&tx, &checked_in)?;
            insert_outbox(&tx, &events)?;
            tx.commit().map_err(unavailable)?;
            Ok(checked_in)
        })
        .await
    }

    async fn record_ticket(
        &self,
        id: Uuid,
        ticket: &str,
        events: &[Envelope],
    ) -> Result<bool, StoreError> {
        let (ticket, events) = (ticket.to_owned(), events.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let recorded = tx
                .execute(
                    "INSERT INTO tickets (registration_id, ticket)
                     SELECT id, ?2 FROM registrations WHERE id = ?1 AND status = 'CONFIRMED'
                     ON CONFLICT (registration_id) DO NOTHING",
                    params![id.to_string(), ticket],
                )
                .map_err(unavailable)?
                == 1;
            if recorded {
                insert_outbox(&tx, &events)?;
                tx.commit().map_err(unavailable)?;
            }
            Ok(recorded)
        })
        .await
    }

    async fn ticket(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        self.run(move |conn| {
            conn.query_row(
                "SELECT ticket FROM tickets WHERE registration_id = ?1",
                [id.to_string()],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    async fn registrations(
        &self,
        event_id: Uuid,
        status: Option<RegistrationStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Registration>, StoreError> {
        let after = cursor
            .map(|raw| {
                URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?
            .unwrap_or_default();
        self.run(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT data, sort_key FROM registrations
                     WHERE event_id = ?1 AND (?2 IS NULL OR status = ?2) AND sort_key > ?3
                     ORDER BY sort_key LIMIT ?4",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![
                        event_id.to_string(),
                        status.map(RegistrationStatus::as_str),
                        after,
                        limit as i64 + 1
                    ],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
                .map_err(unavailable)?;
            let mut items = Vec::with_capacity(limit + 1);
            for row in rows {
                let (data, sort_key) = row.map_err(unavailable)?;
                items.push((from_json::<Registration>(&data)?, sort_key));
            }
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items
                    .last()
                    .map(|(_, sort_key)| URL_SAFE_NO_PAD.encode(sort_key))
            } else {
                None
            };
            Ok(Page {
                items: items.into_iter().map(|(r, _)| r).collect(),
                next_cursor,
            })
        })
        .await
    }

    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let (key, fingerprint) = (key.to_owned(), fingerprint.to_owned());
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let now_s = now.unix_timestamp();
            // A new key, an abandoned in-flight claim, or an expired record: ours now.
            let acquired = tx
                .execute(
                    "INSERT INTO idempotency (key, fingerprint, outcome, lease_until, expires_at)
                     VALUES (?1, ?2, NULL, ?3, ?4)
                     ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint,
                       outcome = NULL, lease_until = excluded.lease_until,
                       expires_at = excluded.expires_at
                     WHERE expires_at <= ?5 OR (outcome IS NULL AND lease_until <= ?5)",
                    params![
                        key,
                        fingerprint,
                        (now + lease).unix_timestamp(),
                        (now + ttl).unix_timestamp(),
                        now_s
                    ],
                )
                .map_err(unavailable)?
                == 1;
            let claim = if acquired {
                Claim::Acquired
            } else {
                let (fingerprint, outcome): (String, Option<String>) = tx
                    .query_row(
                        "SELECT fingerprint, outcome FROM idempotency WHERE key = ?1",
                        [&key],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .map_err(unavailable)?;
                match outcome {
                    Some(outcome) => Claim::Completed {
                        fingerprint,
                        outcome,
                    },
                    None => Claim::InFlight { fingerprint },
                }
            };
            tx.commit().map_err(unavailable)?;
            Ok(claim)
        })
        .await
    }

    async fn complete(&self, key: &str, outcome: &str) -> Result<(), StoreError> {
        let (key, outcome) = (key.to_owned(), outcome.to_owned());
        self.run(move |conn| {
            conn.execute(
                "UPDATE idempotency SET outcome = ?2 WHERE key = ?1",
                params![key, outcome],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.run(move |conn| {
            conn.execute(
                "DELETE FROM idempotency WHERE key = ?1 AND outcome IS NULL",
                [key],
            )
            .map_err(unavailable)?;
            Ok(())
        })
        .await
    }

    async fn unpublished(&self, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        self.run(move |conn| {
            let mut statement = conn
                .prepare_cached("SELECT envelope FROM outbox ORDER BY seq LIMIT ?1")
                .map_err(unavailable)?;
            let rows = statement
                .query_map([limit as i64], |row| row.get::<_, String>(0))
                .map_err(unavailable)?;
            rows.map(|json| from_json(&json.map_err(unavailable)?))
                .collect()
        })
        .await
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        let ids = ids.to_vec();
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            for id in ids {
                tx.execute("DELETE FROM outbox WHERE id = ?1", [id.to_string()])
                    .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)
        })
        .await
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
                } => {
                    if let Some(day) = registered_on {
                        tx.execute(
                            "INSERT INTO read_event_days (event_id, day, registrations) VALUES (?1, ?2, 1)
                             ON CONFLICT (event_id, day) DO UPDATE SET registrations = registrations + 1",
                            params![event_id.to_string(), format_day(*day)?],
                        )
                        .map_err(unavailable)?;
                    }
                    tx.execute(
                        "INSERT INTO read_events (id, registered, waitlisted, cancelled, checked_in)
                         VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (id) DO UPDATE SET registered = registered + excluded.registered,
                           waitlisted = waitlisted + excluded.waitlisted,
                           cancelled = cancelled + excluded.cancelled,
                           checked_in = checked_in + excluded.checked_in",
                        params![
                            event_id.to_string(),
                            delta.registered,
                            delta.waitlisted,
                            delta.cancelled,
                            delta.checked_in
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

    async fn stats(&self, event_id: Uuid) -> Result<EventStats, StoreError> {
        self.run(move |conn| {
            let stats = conn
                .query_row(
                    "SELECT registered, waitlisted, cancelled, checked_in FROM read_events WHERE id = ?1",
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
        self.listings_page(query, limit, cursor).await
    }

    async fn report(&self, event_id: Uuid) -> Result<EventReport, StoreError> {
        self.event_report(event_id).await
    }
}

/// The counters in four consecutive columns from `first`.
fn stats_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<EventStats> {
    let count = |i: usize| row.get::<_, i64>(first + i);
    Ok(EventStats::from_counters(
        count(0)?,
        count(1)?,
        count(2)?,
        count(3)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_database_of_an_older_version_is_migrated_in_place() {
        let path =
            std::env::temp_dir().join(format!("evreg-migrate-{}.sqlite3", Uuid::new_v4().simple()));
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
