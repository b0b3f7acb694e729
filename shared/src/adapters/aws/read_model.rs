//! The read table (CQRS read model), written only by the projection worker.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | event summary: listing fields, counters (`gsi1`: published, by date) | `EVENT#<id>` | `SUMMARY` |
//! | applied-event marker (dedupe) | `APPLIED#<event id>` | `APPLIED` |

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use super::dynamo::{
    decode_index_cursor, entity, item_with_keys, key, n, number, page_of, s, transact, unavailable,
    Cancelled, Item,
};
use crate::domain::{sortable_time, Event, EventStats, EventStatus, ProjectionChange};
use crate::ports::{Page, ReadModel, StoreError};

const PUBLISHED: &str = "PUBLISHED";

pub struct DynamoReadModel {
    client: Client,
    table: String,
}

impl DynamoReadModel {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    fn summary_update(&self, change: &ProjectionChange) -> Result<Update, StoreError> {
        let builder = Update::builder().table_name(&self.table);
        let builder = match change {
            ProjectionChange::Counters { event_id, delta } => builder
                .set_key(Some(key(format!("EVENT#{event_id}"), "SUMMARY")))
                .update_expression(
                    "ADD registered :registered, waitlisted :waitlisted, \
                     cancelled :cancelled, checked_in :checked_in",
                )
                .expression_attribute_values(":registered", n(delta.registered))
                .expression_attribute_values(":waitlisted", n(delta.waitlisted))
                .expression_attribute_values(":cancelled", n(delta.cancelled))
                .expression_attribute_values(":checked_in", n(delta.checked_in)),
            ProjectionChange::Listing(listing) => {
                // SET each listing field on its own so the counters beside them survive,
                // whichever of the two arrives first.
                let fields = item_with_keys(listing, &[])?;
                let mut builder =
                    builder.set_key(Some(key(format!("EVENT#{}", listing.id), "SUMMARY")));
                let mut assignments = Vec::with_capacity(fields.len() + 2);
                for (i, (name, value)) in fields.into_iter().enumerate() {
                    assignments.push(format!("#f{i} = :f{i}"));
                    builder = builder
                        .expression_attribute_names(format!("#f{i}"), name)
                        .expression_attribute_values(format!(":f{i}"), value);
                }
                let mut expression = format!("SET {}", assignments.join(", "));
                if listing.status == EventStatus::Published {
                    expression.push_str(", gsi1pk = :listed, gsi1sk = :sort");
                    builder = builder
                        .expression_attribute_values(":listed", s(PUBLISHED))
                        .expression_attribute_values(
                            ":sort",
                            s(format!("{}#{}", sortable_time(listing.date), listing.id)),
                        );
                } else {
                    expression.push_str(" REMOVE gsi1pk, gsi1sk");
                }
                builder.update_expression(expression)
            }
        };
        builder.build().map_err(unavailable)
    }
}

#[async_trait]
impl ReadModel for DynamoReadModel {
    async fn apply(&self, dedupe_id: Uuid, change: &ProjectionChange) -> Result<bool, StoreError> {
        let marker = Put::builder()
            .table_name(&self.table)
            .set_item(Some(key(format!("APPLIED#{dedupe_id}"), "APPLIED")))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let items = vec![
            TransactWriteItem::builder().put(marker).build(),
            TransactWriteItem::builder()
                .update(self.summary_update(change)?)
                .build(),
        ];
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(Cancelled::Conditions(reasons)) if Cancelled::failed(&reasons, 0) => Ok(false),
            Err(Cancelled::Conditions(_)) => Err(StoreError::Corrupt(
                "summary update condition failed".into(),
            )),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    async fn stats(&self, event_id: Uuid) -> Result<EventStats, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("EVENT#{event_id}"), "SUMMARY")))
            .projection_expression("registered, waitlisted, cancelled, checked_in")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(stats_of(output.item.as_ref()))
    }

    async fn published(
        &self,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError> {
        let start = cursor
            .map(|raw| decode_index_cursor(raw, PUBLISHED))
            .transpose()?;
        // One extra item tells whether another page exists, so the last page has no cursor.
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :listed")
            .expression_attribute_values(":listed", s(PUBLISHED))
            .set_exclusive_start_key(start)
            .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        page_of(output.items.unwrap_or_default(), limit, |item| {
            let stats = stats_of(Some(&item));
            Ok((entity::<Event>(item)?, stats))
        })
    }
}

fn stats_of(item: Option<&Item>) -> EventStats {
    let count = |name: &str| item.and_then(|i| number(i, name)).unwrap_or(0);
    EventStats::from_counters(
        count("registered"),
        count("waitlisted"),
        count("cancelled"),
        count("checked_in"),
    )
}
