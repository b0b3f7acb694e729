//! [`IdempotencyStore`] over SQLite: one `idempotency` row per key; a claim is one upsert
//! whose `WHERE` takes over only an expired record or an abandoned in-flight claim.

use async_trait::async_trait;
use rusqlite::{params, TransactionBehavior};
use time::{Duration, OffsetDateTime};

use super::{unavailable, SqliteStore};
use crate::ports::{Claim, IdempotencyStore, StoreError};

#[async_trait]
impl IdempotencyStore for SqliteStore {
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
                        now.unix_timestamp()
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
}
