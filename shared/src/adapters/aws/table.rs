//! Item plumbing for both tables: attribute helpers, serde_dynamo conversions, the
//! transaction runner that retries cancelled transactions, conditional puts, consistent
//! reads, and paged index queries with their cursors.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::keys::{Index, Key};
use crate::adapters::cursor;
use crate::ports::{Page, StoreError};

/// A DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// One table: a client (shared by every table of the function) and the table's name.
#[derive(Clone)]
pub struct Table {
    /// The DynamoDB client, built once per cold start.
    pub client: Client,
    /// The table's name.
    pub name: String,
}

impl Table {
    /// A `Query` of this table, to be given its key condition (and index).
    pub fn query(&self) -> QueryFluentBuilder {
        self.client.query().table_name(&self.name)
    }

    /// The table `name` through `client`.
    pub fn new(client: Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The item at `key`, read strongly consistent.
    pub async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key.item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    /// The entity stored at `key`, read strongly consistent.
    pub async fn get_entity<T: DeserializeOwned>(
        &self,
        key: &Key,
    ) -> Result<Option<T>, StoreError> {
        self.get(key).await?.map(entity).transpose()
    }

    /// A put inside a transaction that fails its condition when the key exists: how every
    /// uniqueness guard and new entity is written.
    pub fn put_new(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.name)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Runs a transaction (see [`transact`]).
    pub async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), Cancelled> {
        transact(&self.client, items).await
    }

    /// Runs a transaction whose first item is a uniqueness guard (a [`Table::put_new`]):
    /// `taken` when the guard exists, `Corrupt` naming `what` when another new item's key
    /// does (an id collision).
    pub async fn transact_guarded(
        &self,
        items: Vec<TransactWriteItem>,
        taken: StoreError,
        what: &str,
    ) -> Result<(), StoreError> {
        self.transact(items)
            .await
            .map_err(|cancelled| match cancelled {
                Cancelled::Conditions(reasons) if Cancelled::failed(&reasons, 0) => taken,
                Cancelled::Conditions(_) => StoreError::Corrupt(format!("{what} id collision")),
                Cancelled::Other(e) => e,
            })
    }

    /// One page, `limit` items long, of the `index` query that `query` builds from a start
    /// key. A FilterExpression applies after DynamoDB's own page limit, so a page can come
    /// back short while more match further on: this reads on until the page is full —
    /// plus one item, which only says another page exists — or the index is exhausted.
    /// The cursor points after the last item kept; decode it with [`decode_cursor`].
    pub async fn page<T>(
        &self,
        index: Index,
        limit: usize,
        start: Option<Item>,
        query: impl Fn(Option<Item>) -> QueryFluentBuilder,
        entity_of: impl Fn(Item) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let mut items: Vec<Item> = Vec::with_capacity(limit + 1);
        let mut start = start;
        let read = i32::try_from(limit + 1).unwrap_or(i32::MAX);
        loop {
            let output = query(start.take())
                .index_name(index.name)
                .limit(read)
                .send()
                .await
                .map_err(unavailable)?;
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
                .map(|item| encode_cursor(item, index))
                .transpose()?
        } else {
            None
        };
        let items = items
            .into_iter()
            .map(entity_of)
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, next_cursor })
    }
}

/// The partition and sort key no item has (every key of `keys.rs` has a `#`-separated
/// prefix), read by [`open_connection`].
const NO_ITEM: &str = "warm-up";

/// Opens `client`'s first connection to DynamoDB (and does the SDK's one-time work for the
/// first request) with the cheapest call the template's read and CRUD policies allow: an
/// eventually consistent `GetItem` of a key no item has, projecting only `pk`. A table that
/// does not exist is an error (a misconfigured function should not take traffic); any other
/// failure is only logged, since the connection was the point and the first request will
/// meet the same service anyway.
pub async fn open_connection(client: &Client, table: &str) -> Result<(), StoreError> {
    let request = client
        .get_item()
        .table_name(table)
        .key("pk", s(NO_ITEM))
        .key("sk", s(NO_ITEM))
        .projection_expression("pk");
    match request.send().await {
        Ok(_) => Ok(()),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Err(StoreError::Unavailable(
                format!("the table {table} does not exist").into(),
            ))
        }
        Err(error) => {
            tracing::warn!(
                error = %aws_sdk_dynamodb::error::DisplayErrorContext(&error),
                table,
                "opening the DynamoDB connection failed"
            );
            Ok(())
        }
    }
}

/// A string attribute.
pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// A failed SDK call as the store's error.
pub fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// `entity`'s fields as attributes (serde_dynamo), plus the key attributes that place it.
pub fn item_with_keys(
    entity: &impl Serialize,
    keys: &[(&str, AttributeValue)],
) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::aws_sdk_dynamodb_1::to_item(entity)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    for (name, value) in keys {
        item.insert((*name).to_owned(), value.clone());
    }
    Ok(item)
}

/// The entity stored in `item`; key and bookkeeping attributes are ignored.
pub fn entity<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::aws_sdk_dynamodb_1::from_item(item)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A number attribute's value.
pub fn number(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(raw)) => raw.parse().ok(),
        _ => None,
    }
}

/// A string attribute's value.
pub fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(raw)) => Some(raw),
        _ => None,
    }
}

/// A string attribute parsed as `T` (an id, say); `Corrupt` when absent or unparsable.
pub fn parsed<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    string(item, name)
        .and_then(|raw| raw.parse().ok())
        .ok_or_else(|| StoreError::Corrupt(format!("item without a valid {name}")))
}

/// How a transaction ended, when it did not succeed.
pub enum Cancelled {
    /// Some item's condition failed: the reasons, index-aligned with the items.
    Conditions(Vec<CancellationReason>),
    /// Anything else.
    Other(StoreError),
}

impl Cancelled {
    /// Whether the item at `index` failed its condition.
    pub fn failed(reasons: &[CancellationReason], index: usize) -> bool {
        reasons.get(index).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
    }
}

/// Attempts of one transaction that DynamoDB cancels without a failed condition.
pub const CANCELLED_ATTEMPTS: u32 = 8;

/// Runs a transaction. DynamoDB cancels a transaction that races another on the same item
/// (`TransactionConflict`) or meets a throttled partition or index (`ThrottlingError`):
/// nothing was written, and the SDK does not retry a cancellation (it is a 400, and a
/// retry needs a new `ClientRequestToken`, which only a new `send` makes; the SDK's own
/// retries of throttles, 500s and dropped connections inside one `send` keep the token,
/// so DynamoDB applies a transaction once however often its answer was lost). So this
/// loop retries cancellations, with full-jitter exponential backoff; a conflict that
/// persists is [`StoreError::Contended`], a throttle [`StoreError::Unavailable`] (both
/// 503s to retry). Condition failures are returned for the caller to interpret.
pub async fn transact(client: &Client, items: Vec<TransactWriteItem>) -> Result<(), Cancelled> {
    let mut attempt = 0;
    loop {
        let result = client
            .transact_write_items()
            .set_transact_items(Some(items.clone()))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(()),
            Err(error) => error,
        };
        let reasons = match &error {
            SdkError::ServiceError(service) => match service.err() {
                TransactWriteItemsError::TransactionCanceledException(cancelled) => {
                    Some(cancelled.cancellation_reasons().to_vec())
                }
                _ => None,
            },
            _ => None,
        };
        let Some(reasons) = reasons else {
            return Err(Cancelled::Other(unavailable(error)));
        };
        let code = |wanted: &str| reasons.iter().any(|r| r.code() == Some(wanted));
        if code("ConditionalCheckFailed") {
            return Err(Cancelled::Conditions(reasons));
        }
        let (conflicted, throttled) = (code("TransactionConflict"), code("ThrottlingError"));
        if !(conflicted || throttled) {
            return Err(Cancelled::Other(unavailable(error)));
        }
        attempt += 1;
        if attempt >= CANCELLED_ATTEMPTS {
            return Err(Cancelled::Other(if conflicted {
                StoreError::Contended
            } else {
                unavailable(error)
            }));
        }
        tokio::time::sleep(backoff(attempt)).await;
    }
}

/// "Full jitter" (uniform in 0..=10 ms × 2^attempt, at most 320 ms), the SDK's own kind
/// of backoff, for retries the SDK cannot make.
fn backoff(attempt: u32) -> Duration {
    let ceiling = 10u64 << attempt.min(5);
    Duration::from_millis(rand::random_range(0..=ceiling))
}

/// The cursor after `item` in `index`: its table and index keys.
fn encode_cursor(item: &Item, index: Index) -> Result<String, StoreError> {
    let keys: BTreeMap<&str, &str> = ["pk", "sk", index.hash, index.range]
        .into_iter()
        .filter_map(|name| string(item, name).map(|value| (name, value)))
        .collect();
    cursor::encode(&keys)
}

/// The start key in `raw`, accepted only with exactly `index`'s key shape within its
/// partition `partition`, so a forged cursor is a 400 rather than a DynamoDB validation
/// error or another list's page.
pub fn decode_cursor(raw: &str, index: Index, partition: &str) -> Result<Item, StoreError> {
    let keys: BTreeMap<String, String> = cursor::decode(raw)?;
    let shape = ["pk", "sk", index.hash, index.range];
    let well_formed = keys.len() == shape.len()
        && shape.iter().all(|name| keys.contains_key(*name))
        && keys.get(index.hash).map(String::as_str) == Some(partition);
    if !well_formed {
        return Err(StoreError::InvalidCursor);
    }
    Ok(keys
        .into_iter()
        .map(|(name, value)| (name, s(value)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::aws::keys::{GSI1, GSI2};

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), s(*v)))
            .collect()
    }

    #[test]
    fn a_cursor_reads_back_as_the_start_key_of_its_index() {
        let last = item(&[
            ("pk", "REG#1"),
            ("sk", "REG"),
            ("gsi1pk", "EVENT#e#REGS"),
            ("gsi1sk", "t#1"),
            ("email", "not a key"),
        ]);
        let cursor = encode_cursor(&last, GSI1).unwrap();
        let start = decode_cursor(&cursor, GSI1, "EVENT#e#REGS").unwrap();
        assert_eq!(start.len(), 4);
        assert_eq!(start.get("gsi1sk"), Some(&s("t#1")));
    }

    #[test]
    fn cursors_of_another_partition_or_index_are_refused() {
        let last = item(&[
            ("pk", "REG#1"),
            ("sk", "REG"),
            ("gsi1pk", "EVENT#e#REGS"),
            ("gsi1sk", "t#1"),
        ]);
        let cursor = encode_cursor(&last, GSI1).unwrap();
        for (index, partition) in [(GSI1, "EVENT#other#REGS"), (GSI2, "EVENT#e#REGS")] {
            assert!(matches!(
                decode_cursor(&cursor, index, partition),
                Err(StoreError::InvalidCursor)
            ));
        }
        assert!(matches!(
            decode_cursor("garbage", GSI1, "EVENT#e#REGS"),
            Err(StoreError::InvalidCursor)
        ));
    }
}
