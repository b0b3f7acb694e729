//! [`UserStore`] over SQLite: the `users.email` UNIQUE constraint is the email guard and
//! the listing's order; changes are one transaction each.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use super::{commit, from_json, page_of, to_json, unavailable, unique_or, SqliteStore};
use crate::adapters::cursor;
use crate::domain::{Envelope, User, UserId};
use crate::ports::{Committed, Page, StoreError, UserChange, UserStore};

/// Where a listing page resumes: after this email (emails are unique, so nothing repeats
/// or hides).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resume {
    after: String,
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn create_user(
        &self,
        user: &User,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        let (user, outbox) = (user.clone(), outbox.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            tx.execute(
                "INSERT INTO users (id, email, data) VALUES (?1, ?2, ?3)",
                params![user.id.to_string(), user.email, to_json(&user)?],
            )
            .map_err(unique_or(StoreError::EmailTaken))?;
            commit(tx, (), outbox)
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.get_json("SELECT data FROM users WHERE id = ?1", id.to_string())
            .await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        self.get_json("SELECT data FROM users WHERE email = ?1", email.to_owned())
            .await
    }

    async fn users(&self, limit: usize, cursor: Option<&str>) -> Result<Page<User>, StoreError> {
        let after = cursor
            .map(cursor::decode::<Resume>)
            .transpose()?
            .map(|resume| resume.after)
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
                let user = from_json::<User>(&row.map_err(unavailable)?)?;
                let after = user.email.clone();
                items.push((user, Resume { after }));
            }
            page_of(items, limit)
        })
        .await
    }

    async fn update_user(
        &self,
        id: UserId,
        change: UserChange,
    ) -> Result<Option<User>, StoreError> {
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
