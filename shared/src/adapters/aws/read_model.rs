//! [`ReadModel`] on the read table (keys in `keys.rs`), written only by the projection
//! worker. Beside the listing fields an event's summary keeps `listing_version` (the
//! envelope id, a UUIDv7, of the listing applied: only a newer one replaces it),
//! `date_key`, `venue_key` and `search_text` (lower-cased) for the `GET /events` filters,
//! which are FilterExpressions over the index query, read until the page is full.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use uuid::Uuid;

use super::keys::{
    self, Index, DAY_PREFIX, GSI1, GSI2, MONEY_PREFIX, PUBLISHED_PARTITION, SUMMARY,
};
use super::table::{
    decode_cursor, entity, item_with_keys, n, number, s, string, unavailable, Cancelled, Item,
    Table,
};
use crate::domain::calendar::parse_day;
use crate::domain::{
    sortable_time, Event, EventId, EventReport, EventStats, EventStatus, MoneyTotals,
    ProjectionChange,
};
use crate::ports::{search_key, ListingOrder, ListingQuery, Page, ReadModel, StoreError};

/// The read model over its own table.
pub struct DynamoReadModel {
    table: Table,
}

impl DynamoReadModel {
    /// The read model in table `name`.
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, name),
        }
    }

    fn summary_update(
        &self,
        dedupe_id: Uuid,
        change: &ProjectionChange,
    ) -> Result<Update, StoreError> {
        let builder = Update::builder().table_name(&self.table.name);
        let builder = match change {
            ProjectionChange::Counters {
                event_id, delta, ..
            } => builder
                .set_key(Some(keys::summary(*event_id).item()))
                .update_expression(
                    "ADD registered :registered, waitlisted :waitlisted, \
                     cancelled :cancelled, checked_in :checked_in, pending :pending",
                )
                .expression_attribute_values(":registered", n(delta.registered))
                .expression_attribute_values(":waitlisted", n(delta.waitlisted))
                .expression_attribute_values(":cancelled", n(delta.cancelled))
                .expression_attribute_values(":checked_in", n(delta.checked_in))
                .expression_attribute_values(":pending", n(delta.pending)),
            ProjectionChange::Listing(listing) => {
                // SET each listing field on its own so the counters beside them survive,
                // whichever of the two arrives first.
                let fields = item_with_keys(listing, &[])?;
                let mut builder = builder.set_key(Some(keys::summary(listing.id).item()));
                let mut assignments = Vec::with_capacity(fields.len() + 2);
                for (i, (name, value)) in fields.into_iter().enumerate() {
                    assignments.push(format!("#f{i} = :f{i}"));
                    builder = builder
                        .expression_attribute_names(format!("#f{i}"), name)
                        .expression_attribute_values(format!(":f{i}"), value);
                }
                let mut expression = format!(
                    "SET {}, listing_version = :version, date_key = :date_key, \
                     venue_key = :venue_key, search_text = :search_text",
                    assignments.join(", ")
                );
                builder = builder
                    .expression_attribute_values(":version", s(dedupe_id.to_string()))
                    .expression_attribute_values(":date_key", s(sortable_time(listing.date)))
                    .expression_attribute_values(":venue_key", s(search_key(&listing.venue)))
                    .expression_attribute_values(
                        ":search_text",
                        s(search_key(&format!(
                            "{}\n{}",
                            listing.name, listing.description
                        ))),
                    )
                    // Only a newer listing (a later UUIDv7) replaces the stored one, so a
                    // late EventCreated cannot undo an EventUpdated.
                    .condition_expression(
                        "attribute_not_exists(listing_version) OR listing_version < :version",
                    );
                if listing.status == EventStatus::Published {
                    expression.push_str(
                        ", gsi1pk = :listed, gsi1sk = :sort, gsi2pk = :listed, gsi2sk = :newest",
                    );
                    builder = builder
                        .expression_attribute_values(":listed", s(PUBLISHED_PARTITION))
                        .expression_attribute_values(
                            ":sort",
                            s(keys::by_time(listing.date, listing.id)),
                        )
                        .expression_attribute_values(
                            ":newest",
                            s(keys::by_time(listing.created_at, listing.id)),
                        );
                } else {
                    // Drafts and cancelled events leave both public indexes.
                    expression.push_str(" REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk");
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
            .table_name(&self.table.name)
            .set_item(Some(keys::applied(dedupe_id).item()))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        let mut items = vec![
            TransactWriteItem::builder().put(marker).build(),
            TransactWriteItem::builder()
                .update(self.summary_update(dedupe_id, change)?)
                .build(),
        ];
        if let ProjectionChange::Counters {
            event_id,
            registered_on,
            money,
            ..
        } = change
        {
            if let Some(day) = registered_on {
                let per_day = Update::builder()
                    .table_name(&self.table.name)
                    .set_key(Some(keys::report_day(*event_id, *day).item()))
                    .update_expression("ADD registrations :one")
                    .expression_attribute_values(":one", n(1))
                    .build()
                    .map_err(unavailable)?;
                items.push(TransactWriteItem::builder().update(per_day).build());
            }
            if let Some(money) = money {
                let totals = Update::builder()
                    .table_name(&self.table.name)
                    .set_key(Some(keys::report_money(*event_id, &money.currency).item()))
                    .update_expression(
                        "ADD received :received, refunded :refunded, pending :pending",
                    )
                    .expression_attribute_values(":received", n(money.received))
                    .expression_attribute_values(":refunded", n(money.refunded))
                    .expression_attribute_values(":pending", n(money.pending))
                    .build()
                    .map_err(unavailable)?;
                items.push(TransactWriteItem::builder().update(totals).build());
            }
        }
        match self.table.transact(items).await {
            Ok(()) => Ok(true),
            Err(Cancelled::Conditions(reasons)) if Cancelled::failed(&reasons, 0) => Ok(false),
            // A listing older than the one stored: superseded, nothing to change.
            Err(Cancelled::Conditions(reasons))
                if matches!(change, ProjectionChange::Listing(_))
                    && Cancelled::failed(&reasons, 1) =>
            {
                Ok(false)
            }
            Err(Cancelled::Conditions(_)) => Err(StoreError::Corrupt(
                "summary update condition failed".into(),
            )),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    async fn stats(&self, event_id: EventId) -> Result<EventStats, StoreError> {
        let output = self
            .table
            .client
            .get_item()
            .table_name(&self.table.name)
            .set_key(Some(keys::summary(event_id).item()))
            .projection_expression("registered, waitlisted, cancelled, checked_in, pending")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(stats_of(output.item.as_ref()))
    }

    async fn listings(
        &self,
        query: &ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError> {
        let index = index_of(query.order);
        let start = cursor
            .map(|raw| decode_cursor(raw, index, PUBLISHED_PARTITION))
            .transpose()?;
        let mut filters = Vec::new();
        let mut values: Vec<(&str, AttributeValue)> = vec![(":listed", s(PUBLISHED_PARTITION))];
        if let Some(from) = query.from {
            filters.push("date_key >= :from");
            values.push((":from", s(sortable_time(from))));
        }
        if let Some(to) = query.to {
            filters.push("date_key <= :to");
            values.push((":to", s(sortable_time(to))));
        }
        if let Some(venue) = &query.venue {
            filters.push("venue_key = :venue");
            values.push((":venue", s(search_key(venue))));
        }
        if let Some(text) = &query.text {
            filters.push("contains(search_text, :text)");
            values.push((":text", s(search_key(text))));
        }
        let request = |start: Option<Item>| {
            let mut request = self
                .table
                .query()
                .key_condition_expression(format!("{} = :listed", index.hash))
                .scan_index_forward(query.order == ListingOrder::Date)
                .set_exclusive_start_key(start);
            if !filters.is_empty() {
                request = request.filter_expression(filters.join(" AND "));
            }
            for (name, value) in &values {
                request = request.expression_attribute_values(*name, value.clone());
            }
            request
        };
        self.table
            .page(index, limit, start, request, |item| {
                let stats = stats_of(Some(&item));
                Ok((entity::<Event>(item)?, stats))
            })
            .await
    }

    async fn report(&self, event_id: EventId) -> Result<EventReport, StoreError> {
        // The summary and the per-day counters share the partition: one query reads all.
        let mut per_day = Vec::new();
        let mut money = Vec::new();
        let mut summary = None;
        let mut start = None;
        loop {
            let output = self
                .table
                .query()
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(keys::event_partition(event_id)))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                match string(&item, "sk") {
                    Some(SUMMARY) => summary = Some(item),
                    Some(sk) => {
                        if let Some(currency) = sk.strip_prefix(MONEY_PREFIX) {
                            let amount = |name| number(&item, name).unwrap_or(0);
                            money.push(MoneyTotals::from_counters(
                                currency.to_owned(),
                                amount("received"),
                                amount("refunded"),
                                amount("pending"),
                            ));
                        }
                        if let Some(day) = sk.strip_prefix(DAY_PREFIX) {
                            let day =
                                parse_day(day).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                            let count = number(&item, "registrations").unwrap_or(0);
                            per_day.push((day, u64::try_from(count).unwrap_or(0)));
                        }
                    }
                    None => {}
                }
            }
            start = output.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        per_day.sort();
        money.sort_by(|a, b| a.currency.cmp(&b.currency));
        Ok(EventReport {
            stats: stats_of(summary.as_ref()),
            per_day,
            money,
        })
    }
}

/// The index a listing order reads.
fn index_of(order: ListingOrder) -> Index {
    match order {
        ListingOrder::Date => GSI1,
        ListingOrder::Newest => GSI2,
    }
}

fn stats_of(item: Option<&Item>) -> EventStats {
    let count = |name: &str| item.and_then(|i| number(i, name)).unwrap_or(0);
    EventStats::from_counters(
        count("registered"),
        count("waitlisted"),
        count("cancelled"),
        count("checked_in"),
        count("pending"),
    )
}
