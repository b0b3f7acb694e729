//! The embedded bus's queues in SQLite (`queue_messages`): what SQS keeps durably — every
//! published message until a consumer deletes it, its receive count, its visibility, and
//! the dead letters — so a message published before the dev server dies is delivered
//! after it restarts, and a separate `evreg-dev dead-letters` process lists and redrives
//! the dead letters of a running server.

use rusqlite::{params, TransactionBehavior};

use super::{unavailable, SqliteStore};
use crate::ports::StoreError;

/// One message of one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    /// The message id (unique per queue copy, as SQS's).
    pub id: String,
    /// The queue's name (its worker binary's).
    pub queue: String,
    /// The domain event type (the SNS `type` attribute).
    pub kind: String,
    /// The envelope JSON, as published.
    pub body: String,
    /// Deliveries so far.
    pub receive_count: u32,
    /// When it was published (unix ms; 0 when unknown): SQS's `SentTimestamp`.
    pub sent_at_ms: i64,
    /// The publisher's trace context (`traceparent`), if it had one.
    pub traceparent: Option<String>,
}

/// What became of a received batch: deleted, visible again at a time (unix ms), or dead.
#[derive(Debug, Default)]
pub struct Settlement {
    /// Handled: deleted.
    pub done: Vec<String>,
    /// Failed, to come back at `visible_at` (unix ms).
    pub retry: Vec<(String, i64)>,
    /// Failed their last receive: dead letters from now on.
    pub dead: Vec<String>,
}

impl SqliteStore {
    /// Adds `messages` (each a queue's copy) at the end of their queues, in one transaction.
    pub async fn enqueue(&self, messages: Vec<QueuedMessage>) -> Result<(), StoreError> {
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            for m in &messages {
                tx.execute(
                    "INSERT INTO queue_messages (id, queue, kind, body, sent_at, traceparent)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![m.id, m.queue, m.kind, m.body, m.sent_at_ms, m.traceparent],
                )
                .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    /// Up to `max` messages of `queue` visible at `now_ms`, oldest first, each counted as
    /// received and hidden until `hidden_until_ms` (SQS's visibility timeout).
    pub async fn receive(
        &self,
        queue: &str,
        max: usize,
        now_ms: i64,
        hidden_until_ms: i64,
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        let queue = queue.to_owned();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let messages = {
                let mut statement = tx
                    .prepare_cached(
                        "UPDATE queue_messages
                         SET receive_count = receive_count + 1, visible_at = ?4
                         WHERE seq IN (SELECT seq FROM queue_messages
                                       WHERE queue = ?1 AND dead_at IS NULL AND visible_at <= ?2
                                       ORDER BY seq LIMIT ?3)
                         RETURNING id, queue, kind, body, receive_count, seq, sent_at, traceparent",
                    )
                    .map_err(unavailable)?;
                let rows = statement
                    .query_map(params![queue, now_ms, max as i64, hidden_until_ms], |row| {
                        Ok((
                            row.get::<_, i64>(5)?,
                            QueuedMessage {
                                id: row.get(0)?,
                                queue: row.get(1)?,
                                kind: row.get(2)?,
                                body: row.get(3)?,
                                receive_count: row.get(4)?,
                                sent_at_ms: row.get(6)?,
                                traceparent: row.get(7)?,
                            },
                        ))
                    })
                    .map_err(unavailable)?;
                let mut messages = rows.collect::<Result<Vec<_>, _>>().map_err(unavailable)?;
                // RETURNING does not promise an order.
                messages.sort_by_key(|(seq, _)| *seq);
                messages.into_iter().map(|(_, m)| m).collect()
            };
            tx.commit().map_err(unavailable)?;
            Ok(messages)
        })
        .await
    }

    /// Records what became of a received batch, in one transaction.
    pub async fn settle(&self, settlement: Settlement, now_ms: i64) -> Result<(), StoreError> {
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            for id in &settlement.done {
                tx.execute("DELETE FROM queue_messages WHERE id = ?1", [id])
                    .map_err(unavailable)?;
            }
            for (id, visible_at) in &settlement.retry {
                tx.execute(
                    "UPDATE queue_messages SET visible_at = ?2 WHERE id = ?1",
                    params![id, visible_at],
                )
                .map_err(unavailable)?;
            }
            for id in &settlement.dead {
                tx.execute(
                    "UPDATE queue_messages SET dead_at = ?2 WHERE id = ?1",
                    params![id, now_ms],
                )
                .map_err(unavailable)?;
            }
            tx.commit().map_err(unavailable)
        })
        .await
    }

    /// When the next live message of `queue` becomes visible (unix ms), if it has any.
    pub async fn next_visible_at(&self, queue: &str) -> Result<Option<i64>, StoreError> {
        let queue = queue.to_owned();
        self.run(move |conn| {
            conn.query_row(
                "SELECT MIN(visible_at) FROM queue_messages WHERE queue = ?1 AND dead_at IS NULL",
                [queue],
                |row| row.get(0),
            )
            .map_err(unavailable)
        })
        .await
    }

    /// Live messages in every queue: waiting, held by a consumer, or waiting to retry.
    pub async fn queued(&self) -> Result<usize, StoreError> {
        self.run(|conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM queue_messages WHERE dead_at IS NULL",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(unavailable)
        })
        .await
    }

    /// The dead letters of `queue` (every queue: `None`), oldest first.
    pub async fn dead_letters(
        &self,
        queue: Option<&str>,
    ) -> Result<Vec<QueuedMessage>, StoreError> {
        let queue = queue.map(str::to_owned);
        self.run(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT id, queue, kind, body, receive_count, sent_at, traceparent FROM queue_messages
                     WHERE dead_at IS NOT NULL AND (?1 IS NULL OR queue = ?1) ORDER BY seq",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map([queue], |row| {
                    Ok(QueuedMessage {
                        id: row.get(0)?,
                        queue: row.get(1)?,
                        kind: row.get(2)?,
                        body: row.get(3)?,
                        receive_count: row.get(4)?,
                        sent_at_ms: row.get(5)?,
                        traceparent: row.get(6)?,
                    })
                })
                .map_err(unavailable)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(unavailable)
        })
        .await
    }

    /// Moves the dead letters of `queue` (every queue: `None`) back to the head of their
    /// queue with a fresh receive count, as SQS's message-move task does; a running
    /// server's pollers pick them up within their poll interval. Returns how many moved.
    pub async fn redrive(&self, queue: Option<&str>) -> Result<usize, StoreError> {
        let queue = queue.map(str::to_owned);
        self.run(move |conn| {
            conn.execute(
                "UPDATE queue_messages SET dead_at = NULL, receive_count = 0, visible_at = 0
                 WHERE dead_at IS NOT NULL AND (?1 IS NULL OR queue = ?1)",
                [queue],
            )
            .map_err(unavailable)
        })
        .await
    }

    /// What a process that died left behind, freed for the one starting now (the only one
    /// serving this database): the messages its consumers held become visible at once
    /// rather than after their visibility timeout, and its claims in flight (requests
    /// and worker steps under an idempotency key) are released rather than waiting out
    /// their lease — which would outlast a message's receives and dead-letter it.
    pub fn recover_abandoned(&self) -> Result<(usize, usize), StoreError> {
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::Unavailable("sqlite connection mutex poisoned".into()))?;
        let tx = conn.transaction().map_err(unavailable)?;
        let messages = tx
            .execute(
                "UPDATE queue_messages SET visible_at = 0 WHERE dead_at IS NULL AND visible_at > 0",
                [],
            )
            .map_err(unavailable)?;
        let claims = tx
            .execute("DELETE FROM idempotency WHERE outcome IS NULL", [])
            .map_err(unavailable)?;
        tx.commit().map_err(unavailable)?;
        Ok((messages, claims))
    }
}
