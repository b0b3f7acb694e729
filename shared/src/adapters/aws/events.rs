//! The organizer's event updates on the write table: one `TransactWriteItems` whose first
//! item updates the event on condition `confirmed <= :capacity`, so a capacity lowered
//! below the seats taken is refused by DynamoDB itself, never by a read before the write.
//! A slug change swaps the `SLUG#<slug>` guard items in the same transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::dynamo::{item_with_keys, key, n, number, s, transact, unavailable, Cancelled};
use super::store::DynamoStore;
use crate::domain::{Envelope, Event};
use crate::ports::{EventStore, StoreError, UpdateEventError};

/// Attributes of the event item that are not the event's own fields: the update leaves them.
const KEPT: [&str; 4] = ["pk", "sk", "confirmed", "waitlisted"];

impl DynamoStore {
    fn event_update(&self, event: &Event) -> Result<TransactWriteItem, StoreError> {
        let fields = item_with_keys(event, &[])?;
        let mut builder = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(format!("EVENT#{}", event.id), "EVENT")));
        let mut assignments = Vec::with_capacity(fields.len());
        // SET each field on its own (not a Put), so the seat counters beside them survive.
        for (i, (name, value)) in fields
            .into_iter()
            .filter(|(name, _)| !KEPT.contains(&name.as_str()))
            .enumerate()
        {
            assignments.push(format!("#f{i} = :f{i}"));
            builder = builder
                .expression_attribute_names(format!("#f{i}"), name)
                .expression_attribute_values(format!(":f{i}"), value);
        }
        let update = builder
            .update_expression(format!("SET {}", assignments.join(", ")))
            .condition_expression("attribute_exists(pk) AND confirmed <= :capacity")
            .expression_attribute_values(":capacity", n(event.max_capacity))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Releases `old` (only if it is this event's) and takes `new` (only if free).
    fn slug_swap(&self, event: &Event, old: &str) -> Result<Vec<TransactWriteItem>, StoreError> {
        let release = Delete::builder()
            .table_name(self.table())
            .set_key(Some(key(format!("SLUG#{old}"), "SLUG")))
            .condition_expression("attribute_not_exists(pk) OR event_id = :id")
            .expression_attribute_values(":id", s(event.id.to_string()))
            .build()
            .map_err(unavailable)?;
        let mut guard = key(format!("SLUG#{}", event.slug), "SLUG");
        guard.insert("event_id".into(), s(event.id.to_string()));
        let take = Put::builder()
            .table_name(self.table())
            .set_item(Some(guard))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        Ok(vec![
            TransactWriteItem::builder().delete(release).build(),
            TransactWriteItem::builder().put(take).build(),
        ])
    }
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn update_event(
        &self,
        event: &Event,
        previous_slug: &str,
        events: &[Envelope],
    ) -> Result<(), UpdateEventError> {
        let mut items = vec![self.event_update(event)?];
        let slug_changed = event.slug != previous_slug;
        if slug_changed {
            items.extend(self.slug_swap(event, previous_slug)?);
        }
        items.extend(self.outbox_puts(events)?);
        let reasons = match transact(self.client(), items).await {
            Ok(()) => return Ok(()),
            Err(Cancelled::Other(e)) => return Err(e.into()),
            Err(Cancelled::Conditions(reasons)) => reasons,
        };
        if slug_changed && Cancelled::failed(&reasons, 2) {
            return Err(StoreError::SlugTaken.into());
        }
        if !Cancelled::failed(&reasons, 0) {
            return Err(StoreError::Corrupt("event update refused on a guard".into()).into());
        }
        let old = match reasons.first().and_then(|r| r.item().cloned()) {
            Some(item) => Some(item),
            // Not every DynamoDB-compatible API returns the old item; read it then.
            None => self.get(format!("EVENT#{}", event.id), "EVENT").await?,
        };
        match old {
            None => Err(StoreError::EventNotFound.into()),
            Some(item) => {
                let confirmed = number(&item, "confirmed")
                    .and_then(|c| u32::try_from(c).ok())
                    .unwrap_or(u32::MAX);
                Err(UpdateEventError::CapacityBelowConfirmed { confirmed })
            }
        }
    }
}
