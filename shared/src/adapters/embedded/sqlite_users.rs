//! Accounts for the ADMIN routes over SQLite: listed by the `users.email` unique index,
//! changed in one transaction.

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::sqlite::{from_json, to_json, unavailable, SqliteStore};
use crate::domain::User;
use crate::ports::{Page, StoreError, UserChange, UserStore};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersCursor {
    after: String,
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn users(&self, limit: usize, cursor: Option<&str>) -> Result<Page<User>, StoreError> {
        // The cursor is the last email shown (emails are unique, so nothing repeats or
        // hides), in a JSON envelope so that something else is refused rather than read.
        let after = cursor
            .map(|raw| {
                URL_SAFE_NO_PAD
                    .decode(raw)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<UsersCursor>(&bytes).ok())
                    .map(|cursor| cursor.after)
                    .ok_or(StoreError::InvalidCursor)
            })
            .transpose()?
            .unwrap_or_default();
        self.run(move |conn| {
            let mut statement = conn
                .prepare_cached("SELECT data FROM users WHERE email > ?1 ORDER BY email LIMIT ?2")
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![after, limit as i64 + 1], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(unavailable)?;
            let mut items = Vec::with_capacity(limit + 1);
            for row in rows {
                items.push(from_json::<User>(&row.map_err(unavailable)?)?);
            }
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                match items.last() {
                    Some(user) => Some(URL_SAFE_NO_PAD.encode(to_json(&UsersCursor {
                        after: user.email.clone(),
                    })?)),
                    None => None,
                }
            } else {
                None
            };
            Ok(Page { items, next_cursor })
        })
        .await
    }

    async fn update_user(&self, id: Uuid, change: UserChange) -> Result<Option<User>, StoreError> {
        self.run(move |conn| {
            // IMMEDIATE: the read and the write are one step for every other writer.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let Some(json) = tx
                .query_row(
                    "SELECT data FROM users WHERE id = ?1",
                    [id.to_string()],
                    |row| row.get::<_, String>(0),
                )
                .optional()
                .map_err(unavailable)?
            else {
                return Ok(None);
            };
            let mut user: User = from_json(&json)?;
            if let Some(role) = change.role {
                user.role = role;
            }
            if let Some(active) = change.active {
                user.active = active;
            }
            tx.execute(
                "UPDATE users SET data = ?2 WHERE id = ?1",
                params![id.to_string(), to_json(&user)?],
            )
            .map_err(unavailable)?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(user))
        })
        .await
    }
}
