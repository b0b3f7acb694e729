//! The transactional outbox in the write table: every write puts its domain events as
//! `OUTBOX#<id>` items in its own transaction ([`outbox_puts`]); the publisher deletes them
//! once the bus has them, and the sweeper reads what is left, oldest first, from `gsi1`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::TransactWriteItem;
use time::Duration;
use uuid::Uuid;

use super::keys::{self, GSI1, OUTBOX_PARTITION};
use super::table::{n, s, string, unavailable, Table};
use super::DynamoStore;
use crate::domain::Envelope;
use crate::ports::{Outbox, StoreError};

/// Entries expire by TTL long after the sweeper would have republished them; the TTL only
/// bounds what a broken sweeper could leave behind.
const OUTBOX_TTL: Duration = Duration::days(14);

/// The puts that record `outbox` in a transaction of `table`.
pub fn outbox_puts(
    table: &Table,
    outbox: &[Envelope],
) -> Result<Vec<TransactWriteItem>, StoreError> {
    outbox
        .iter()
        .map(|envelope| {
            let json =
                serde_json::to_string(envelope).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let mut item = keys::outbox(envelope.id).item();
            item.insert("envelope".into(), s(json));
            item.insert(GSI1.hash.into(), s(OUTBOX_PARTITION));
            item.insert(
                GSI1.range.into(),
                s(keys::by_time(envelope.occurred_at, envelope.id)),
            );
            item.insert(
                "expires_at".into(),
                n((envelope.occurred_at + OUTBOX_TTL).unix_timestamp()),
            );
            table.put_new(item)
        })
        .collect()
}

#[async_trait]
impl Outbox for DynamoStore {
    async fn unpublished(&self, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        let output = self
            .table
            .query()
            .index_name(GSI1.name)
            .key_condition_expression("gsi1pk = :outbox")
            .expression_attribute_values(":outbox", s(OUTBOX_PARTITION))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        output
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let json = string(item, "envelope")
                    .ok_or_else(|| StoreError::Corrupt("outbox item without envelope".into()))?;
                serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        for id in ids {
            self.table
                .client
                .delete_item()
                .table_name(&self.table.name)
                .set_key(Some(keys::outbox(*id).item()))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }
}
