//! The read table (CQRS read model), written only by the projection worker.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | event summary: listing fields, counters (`gsi1`: published, by date; `gsi2`: published, newest first) | `EVENT#<id>` | `SUMMARY` |
//! | registrations made on one UTC day (the report) | `EVENT#<id>` | `DAY#<yyyy-mm-dd>` |
//! | applied-event marker (dedupe) | `APPLIED#<event id>` | `APPLIED` |
//!
//! Beside the listing fields the summary keeps `listing_version` (the envelope id, a UUIDv7,
//! of the listing applied: only a newer one replaces it), `date_key`, `venue_key` and
//! `search_text` (lower-cased) for the `GET /events` filters, which are FilterExpressions
//! over the index query, read until the page is full.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use uuid::Uuid;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use time::Date;

use super::dynamo::{
    entity, item_with_keys, key, n, number, s, string, transact, unavailable, Cancelled, Item,
};
use crate::domain::{sortable_time, Event, EventReport, EventStats, EventStatus, ProjectionChange};
use crate::ports::{search_key, ListingOrder, ListingQuery, Page, ReadModel, StoreError};

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

    fn summary_update(
        &self,
        dedupe_id: Uuid,
        change: &ProjectionChange,
    ) -> Result<Update, StoreError> {
        let builder = Update::builder().table_name(&self.table);
        let builder = match change {
            ProjectionChange::Counters {
                event_id, delta, ..
            } => builder
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
                        .expression_attribute_values(":listed", s(PUBLISHED))
                        .expression_attribute_values(
                            ":sort",
                            s(format!("{}#{}", sortable_time(listing.date), listing.id)),
                        )
                        .expression_attribute_values(
                            ":newest",
                            s(format!(
                                "{}#{}",
                                sortable_time(listing.created_at),
                                listing.id
                            )),
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
            .table_name(&self.table)
            .set_item(Some(key(format!("APPLIED#{dedupe_id}"), "APPLIED")))
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
            registered_on: Some(day),
            ..
        } = change
        {
            let per_day = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(format!("EVENT#{event_id}"), day_sk(*day)?)))
                .update_expression("ADD registrations :one")
                .expression_attribute_values(":one", n(1))
                .build()
                .map_err(unavailable)?;
            items.push(TransactWriteItem::builder().update(per_day).build());
        }
        match transact(&self.client, items).await {
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

    async fn listings(
        &self,
        query: &ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError> {
        self.listings_page(query, limit, cursor).await
    }

    async fn report(&self, event_id: Uuid) -> Result<EventReport, StoreError> {
        // The summary and the per-day counters share the partition: one query reads all.
        let mut per_day = Vec::new();
        let mut summary = None;
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(format!("EVENT#{event_id}")))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            for item in output.items.unwrap_or_default() {
                match string(&item, "sk") {
                    Some("SUMMARY") => summary = Some(item),
                    Some(sk) => {
                        if let Some(day) = sk.strip_prefix("DAY#") {
                            let day = Date::parse(day, DAY_FORMAT)
                                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
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
        Ok(EventReport {
            stats: stats_of(summary.as_ref()),
            per_day,
        })
    }
}

const DAY_FORMAT: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

fn day_sk(day: Date) -> Result<String, StoreError> {
    day.format(DAY_FORMAT)
        .map(|day| format!("DAY#{day}"))
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The index a listing order reads, with its key attribute names.
fn index_of(order: ListingOrder) -> (&'static str, &'static str, &'static str) {
    match order {
        ListingOrder::Date => ("gsi1", "gsi1pk", "gsi1sk"),
        ListingOrder::Newest => ("gsi2", "gsi2pk", "gsi2sk"),
    }
}

/// The opaque cursor of a filtered listing page: the last kept item's table and index keys.
fn encode_listing_cursor(item: &Item, order: ListingOrder) -> String {
    let (_, hash, range) = index_of(order);
    let keys: HashMap<&str, &str> = ["pk", "sk", hash, range]
        .into_iter()
        .filter_map(|name| string(item, name).map(|value| (name, value)))
        .collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&keys).unwrap_or_default())
}

/// Only a cursor of exactly this index's key shape in the published partition: anything
/// else is a 400, not a DynamoDB validation error.
fn decode_listing_cursor(raw: &str, order: ListingOrder) -> Result<Item, StoreError> {
    let (_, hash, range) = index_of(order);
    let keys: HashMap<String, String> = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(StoreError::InvalidCursor)?;
    let names = ["pk", "sk", hash, range];
    let well_formed = keys.len() == names.len()
        && names.iter().all(|name| keys.contains_key(*name))
        && keys.get(hash).map(String::as_str) == Some(PUBLISHED);
    if !well_formed {
        return Err(StoreError::InvalidCursor);
    }
    Ok(keys.into_iter().map(|(k, v)| (k, s(v))).collect())
}

impl DynamoReadModel {
    async fn listings_page(
        &self,
        query: &ListingQuery,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<(Event, EventStats)>, StoreError> {
        let (index, hash, _) = index_of(query.order);
        let mut start = cursor
            .map(|raw| decode_listing_cursor(raw, query.order))
            .transpose()?;
        let mut filters = Vec::new();
        let mut values: Vec<(&str, AttributeValue)> = vec![(":listed", s(PUBLISHED))];
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
        // A FilterExpression applies after DynamoDB reads a page, so a page can come back
        // short or empty while more match further on: read on until the page is full (one
        // extra item says another page exists) or the index is exhausted.
        let mut items: Vec<Item> = Vec::with_capacity(limit + 1);
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(format!("{hash} = :listed"))
                .scan_index_forward(query.order == ListingOrder::Date)
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(limit + 1).unwrap_or(i32::MAX));
            if !filters.is_empty() {
                request = request.filter_expression(filters.join(" AND "));
            }
            for (name, value) in &values {
                request = request.expression_attribute_values(*name, value.clone());
            }
            let output = request.send().await.map_err(unavailable)?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|item| encode_listing_cursor(item, query.order))
        } else {
            None
        };
        let items = items
            .into_iter()
            .map(|item| {
                let stats = stats_of(Some(&item));
                Ok((entity::<Event>(item)?, stats))
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, next_cursor })
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
