//! [`EventStore`] on the write table. The event item carries its seat counters
//! (`confirmed`, `waitlisted`) beside its fields; a slug is unique through a guard item.
//! An update is one `TransactWriteItems` whose first item sets the fields on condition
//! `confirmed <= :capacity`, so a capacity lowered below the seats taken is refused by
//! DynamoDB itself, never by a read before the write; a slug change swaps the guards in
//! the same transaction.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};

use super::keys;
use super::outbox::outbox_puts;
use super::table::{item_with_keys, n, number, s, string, unavailable, Cancelled, Item};
use super::DynamoStore;
use crate::domain::{Envelope, Event, EventId};
use crate::ports::{Committed, EventStore, StoreError, UpdateEventError};

/// Attributes of the event item that are not the event's own fields: an update leaves them.
const KEPT: [&str; 4] = ["pk", "sk", "confirmed", "waitlisted"];

/// An update that raced a concurrent slug change re-reads and tries again this often.
const SLUG_RACES: u32 = 3;

impl DynamoStore {
    /// SETs each of `event`'s fields on its own (not a Put), so the seat counters beside
    /// them survive, on condition the capacity holds the seats taken and the slug is still
    /// `stored_slug` (the one whose guard the transaction releases).
    fn event_update(
        &self,
        event: &Event,
        stored_slug: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let fields = item_with_keys(event, &[])?;
        let mut builder = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::event(event.id).item()));
        let mut assignments = Vec::with_capacity(fields.len());
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
            .condition_expression(
                "attribute_exists(pk) AND confirmed <= :capacity AND #slug = :stored_slug",
            )
            .expression_attribute_names("#slug", "slug")
            .expression_attribute_values(":capacity", n(event.max_capacity))
            .expression_attribute_values(":stored_slug", s(stored_slug))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Releases the guard of `old` (only if it is this event's) and takes `event.slug`'s
    /// (only if free).
    fn slug_swap(&self, event: &Event, old: &str) -> Result<Vec<TransactWriteItem>, StoreError> {
        let release = Delete::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::slug_guard(old).item()))
            .condition_expression("attribute_not_exists(pk) OR event_id = :id")
            .expression_attribute_values(":id", s(event.id.to_string()))
            .build()
            .map_err(unavailable)?;
        Ok(vec![
            TransactWriteItem::builder().delete(release).build(),
            self.table.put_new(slug_guard_item(event))?,
        ])
    }
}

fn slug_guard_item(event: &Event) -> Item {
    let mut guard = keys::slug_guard(&event.slug).item();
    guard.insert("event_id".into(), s(event.id.to_string()));
    guard
}

fn seats_taken(item: &Item) -> Option<u32> {
    number(item, "confirmed").and_then(|count| u32::try_from(count).ok())
}

#[async_trait]
impl EventStore for DynamoStore {
    async fn create_event(
        &self,
        event: &Event,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        let key = keys::event(event.id);
        let event_item = item_with_keys(
            event,
            &[
                ("pk", s(key.pk)),
                ("sk", s(key.sk)),
                ("confirmed", n(0)),
                ("waitlisted", n(0)),
            ],
        )?;
        let mut items = vec![
            self.table.put_new(slug_guard_item(event))?,
            self.table.put_new(event_item)?,
        ];
        items.extend(outbox_puts(&self.table, outbox)?);
        self.table
            .transact_guarded(items, StoreError::SlugTaken, "event")
            .await?;
        Ok(Committed::new((), outbox.to_vec()))
    }

    async fn event(&self, id: EventId) -> Result<Option<Event>, StoreError> {
        self.table.get_entity(&keys::event(id)).await
    }

    async fn event_by_slug(&self, slug: &str) -> Result<Option<Event>, StoreError> {
        let Some(guard) = self.table.get(&keys::slug_guard(slug)).await? else {
            return Ok(None);
        };
        let Some(id) = string(&guard, "event_id").and_then(|id| id.parse().ok()) else {
            return Err(StoreError::Corrupt(format!(
                "slug guard {slug} names no event"
            )));
        };
        // Between the two reads a rename may have moved the event to another slug: the
        // guard then named it for a moment longer, and the slug names nothing now.
        Ok(self
            .event(id)
            .await?
            .filter(|event: &Event| event.slug == slug))
    }

    async fn update_event(
        &self,
        event: &Event,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, UpdateEventError> {
        for _ in 0..SLUG_RACES {
            // The stored slug names the guard to release; the update's condition re-checks
            // it, so a concurrent slug change makes this round fail and look again.
            let Some(stored) = self.table.get(&keys::event(event.id)).await? else {
                return Err(StoreError::EventNotFound.into());
            };
            let stored_slug = string(&stored, "slug")
                .ok_or_else(|| StoreError::Corrupt(format!("event {} has no slug", event.id)))?
                .to_owned();
            let mut items = vec![self.event_update(event, &stored_slug)?];
            let slug_changed = event.slug != stored_slug;
            if slug_changed {
                items.extend(self.slug_swap(event, &stored_slug)?);
            }
            items.extend(outbox_puts(&self.table, outbox)?);
            let reasons = match self.table.transact(items).await {
                Ok(()) => return Ok(Committed::new((), outbox.to_vec())),
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
                None => self.table.get(&keys::event(event.id)).await?,
            };
            match old {
                None => return Err(StoreError::EventNotFound.into()),
                Some(item) if string(&item, "slug") != Some(stored_slug.as_str()) => continue,
                Some(item) => {
                    return Err(UpdateEventError::CapacityBelowConfirmed {
                        confirmed: seats_taken(&item).unwrap_or(u32::MAX),
                    })
                }
            }
        }
        Err(StoreError::Contended.into())
    }

    async fn confirmed_count(&self, id: EventId) -> Result<u32, StoreError> {
        let item = self
            .table
            .get(&keys::event(id))
            .await?
            .ok_or(StoreError::EventNotFound)?;
        seats_taken(&item)
            .ok_or_else(|| StoreError::Corrupt(format!("event {id} has no seat counter")))
    }
}
