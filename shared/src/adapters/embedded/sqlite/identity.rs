//! [`IdentityStore`] over SQLite: the same conditions as the DynamoDB adapter, as
//! conditional statements inside one `BEGIN IMMEDIATE` transaction each.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{commit, unavailable, SqliteStore};
use crate::domain::{Envelope, UserId};
use crate::ports::{Committed, IdentityStore, RefreshToken, Rotation, StoreError};

/// An id column's text as the id type `I`.
fn parse_id<I: std::str::FromStr>(raw: &str) -> Result<I, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("{raw:?} is not an id")))
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn start_refresh_family(
        &self,
        token: &RefreshToken,
        _now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let token = token.clone();
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            tx.execute(
                "INSERT INTO refresh_families (id, user_id) VALUES (?1, ?2)",
                params![token.family_id.to_string(), token.user_id.to_string()],
            )
            .map_err(unavailable)?;
            tx.execute(
                "INSERT INTO refresh_tokens (hash, family_id, user_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    token.hash,
                    token.family_id.to_string(),
                    token.user_id.to_string(),
                    token.expires_at.unix_timestamp()
                ],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)
        })
        .await
    }

    async fn rotate_refresh_token(
        &self,
        presented: &str,
        next_hash: &str,
        next_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        let (presented, next_hash) = (presented.to_owned(), next_hash.to_owned());
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let found: Option<(String, String, bool, i64, bool)> = tx
                .query_row(
                    "SELECT t.family_id, t.user_id, t.used, t.expires_at, f.revoked
                     FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
                     WHERE t.hash = ?1",
                    [&presented],
                    |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    },
                )
                .optional()
                .map_err(unavailable)?;
            let Some((family, user, used, expires_at, revoked)) = found else {
                return Ok(Rotation::Refused);
            };
            let (family_id, user_id): (Uuid, UserId) = (parse_id(&family)?, parse_id(&user)?);
            if expires_at <= now.unix_timestamp() || (revoked && !used) {
                return Ok(Rotation::Refused);
            }
            if used {
                tx.execute(
                    "UPDATE refresh_families SET revoked = 1 WHERE id = ?1",
                    [&family],
                )
                .map_err(unavailable)?;
                tx.commit().map_err(unavailable)?;
                return Ok(Rotation::Reused { family_id });
            }
            // The write lock is held since BEGIN IMMEDIATE, so the check above and this
            // update cannot interleave with a concurrent rotation; the condition restates it.
            let marked = tx
                .execute(
                    "UPDATE refresh_tokens SET used = 1 WHERE hash = ?1 AND used = 0",
                    [&presented],
                )
                .map_err(unavailable)?;
            if marked != 1 {
                return Err(StoreError::Corrupt(
                    "refresh token changed under lock".into(),
                ));
            }
            tx.execute(
                "INSERT INTO refresh_tokens (hash, family_id, user_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![next_hash, family, user, next_expires_at.unix_timestamp()],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(Rotation::Rotated { user_id, family_id })
        })
        .await
    }

    async fn revoke_refresh_family(&self, presented: &str) -> Result<bool, StoreError> {
        let presented = presented.to_owned();
        self.run(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE refresh_families SET revoked = 1
                     WHERE id = (SELECT family_id FROM refresh_tokens WHERE hash = ?1)",
                    [presented],
                )
                .map_err(unavailable)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn login_failures(&self, key: &str, window_start: i64) -> Result<u32, StoreError> {
        let key = key.to_owned();
        self.run(move |conn| {
            let attempts: Option<u32> = conn
                .query_row(
                    "SELECT attempts FROM login_failures WHERE key = ?1 AND window_start = ?2",
                    params![key, window_start],
                    |row| row.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            Ok(attempts.unwrap_or(0))
        })
        .await
    }

    async fn record_login_failure(
        &self,
        key: &str,
        window_start: i64,
        window_end: i64,
    ) -> Result<u32, StoreError> {
        let key = key.to_owned();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            // Old windows are dead weight (DynamoDB's TTL deletes them there).
            tx.execute(
                "DELETE FROM login_failures WHERE key = ?1 AND expires_at <= ?2",
                params![key, window_start],
            )
            .map_err(unavailable)?;
            let attempts: u32 = tx
                .query_row(
                    "INSERT INTO login_failures (key, window_start, attempts, expires_at)
                     VALUES (?1, ?2, 1, ?3)
                     ON CONFLICT (key, window_start) DO UPDATE SET attempts = attempts + 1
                     RETURNING attempts",
                    params![key, window_start, window_end],
                    |row| row.get(0),
                )
                .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(attempts)
        })
        .await
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user_id: UserId,
        expires_at: OffsetDateTime,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        let (token_hash, outbox) = (token_hash.to_owned(), outbox.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            tx.execute(
                "INSERT INTO password_resets (hash, user_id, expires_at) VALUES (?1, ?2, ?3)",
                params![token_hash, user_id.to_string(), expires_at.unix_timestamp()],
            )
            .map_err(unavailable)?;
            commit(tx, (), outbox)
        })
        .await
    }

    async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        let (token_hash, password_hash) = (token_hash.to_owned(), password_hash.to_owned());
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let consumed: Option<String> = tx
                .query_row(
                    "UPDATE password_resets SET used = 1
                     WHERE hash = ?1 AND used = 0 AND expires_at > ?2
                     RETURNING user_id",
                    params![token_hash, now.unix_timestamp()],
                    |row| row.get(0),
                )
                .optional()
                .map_err(unavailable)?;
            let Some(user) = consumed else {
                return Ok(None);
            };
            let updated = tx
                .execute(
                    "UPDATE users SET data = json_set(data, '$.password_hash', ?2) WHERE id = ?1",
                    params![user, password_hash],
                )
                .map_err(unavailable)?;
            if updated != 1 {
                // The account is gone: nothing to reset, and the rollback keeps the token.
                return Ok(None);
            }
            tx.execute(
                "UPDATE refresh_families SET revoked = 1 WHERE user_id = ?1",
                [&user],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(parse_id(&user)?))
        })
        .await
    }
}
