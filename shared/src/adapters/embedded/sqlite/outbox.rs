//! [`Outbox`] over SQLite: every write inserts its domain events into `outbox` in its own
//! transaction (`insert_outbox`); `seq` keeps them in write order.

use async_trait::async_trait;
use uuid::Uuid;

use super::{from_json, unavailable, SqliteStore};
use crate::domain::Envelope;
use crate::ports::{Outbox, StoreError};

#[async_trait]
impl Outbox for SqliteStore {
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
