//! Item plumbing shared by the DynamoDB store and read model.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason, TransactWriteItem};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ports::StoreError;

pub type Item = HashMap<String, AttributeValue>;

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Unavailable(Box::new(e))
}

/// `entity`'s fields as attributes, plus the key attributes that place it in the table.
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

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

pub fn number(item: &Item, name: &str) -> Option<i64> {
    match item.get(name) {
        Some(AttributeValue::N(raw)) => raw.parse().ok(),
        _ => None,
    }
}

pub fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    match item.get(name) {
        Some(AttributeValue::S(raw)) => Some(raw),
        _ => None,
    }
}

/// How a transaction ended, when it did not succeed.
pub enum Cancelled {
    /// The reasons, index-aligned with the transaction's items.
    Conditions(Vec<CancellationReason>),
    Other(StoreError),
}

impl Cancelled {
    pub fn failed(reasons: &[CancellationReason], index: usize) -> bool {
        reasons.get(index).and_then(|r| r.code()) == Some("ConditionalCheckFailed")
    }
}

const CONFLICT_RETRIES: u32 = 8;

/// Runs a transaction. DynamoDB cancels a transaction that races another on the same item
/// (`TransactionConflict`) and the SDK does not retry cancellations, so this does, with
/// jittered backoff; condition failures are returned for the caller to interpret.
pub async fn transact(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<TransactWriteItem>,
) -> Result<(), Cancelled> {
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
        let conflicted = reasons
            .iter()
            .any(|r| r.code() == Some("TransactionConflict"));
        let condition_failed = reasons
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed"));
        if conflicted && !condition_failed && attempt < CONFLICT_RETRIES {
            attempt += 1;
            let jitter = rand::random::<u64>() % 20;
            tokio::time::sleep(Duration::from_millis((10 << attempt.min(5)) + jitter)).await;
            continue;
        }
        if condition_failed {
            return Err(Cancelled::Conditions(reasons));
        }
        return Err(Cancelled::Other(unavailable(error)));
    }
}

const CURSOR_KEYS: [&str; 4] = ["pk", "sk", "gsi1pk", "gsi1sk"];

/// The opaque cursor of a `gsi1` query page: the last item's table and index keys.
pub fn encode_index_cursor(item: &Item) -> String {
    let keys: HashMap<&str, &str> = CURSOR_KEYS
        .iter()
        .filter_map(|name| match item.get(*name) {
            Some(AttributeValue::S(value)) => Some((*name, value.as_str())),
            _ => None,
        })
        .collect();
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&keys).unwrap_or_default())
}

/// Accepts only a cursor of exactly `gsi1`'s key shape within the partition `gsi1pk`, so a
/// forged one is a 400 rather than a DynamoDB validation error or another list's page.
pub fn decode_index_cursor(raw: &str, gsi1pk: &str) -> Result<Item, StoreError> {
    let keys: HashMap<String, String> = URL_SAFE_NO_PAD
        .decode(raw)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(StoreError::InvalidCursor)?;
    let well_formed = keys.len() == CURSOR_KEYS.len()
        && CURSOR_KEYS.iter().all(|name| keys.contains_key(*name))
        && keys.get("gsi1pk").map(String::as_str) == Some(gsi1pk);
    if !well_formed {
        return Err(StoreError::InvalidCursor);
    }
    Ok(keys
        .into_iter()
        .map(|(name, value)| (name, s(value)))
        .collect())
}

/// A page from a `gsi1` query that read one item past `limit`: that extra item only says
/// another page exists, and the cursor points after the last item kept.
pub fn page_of<T>(
    mut items: Vec<Item>,
    limit: usize,
    entity_of: impl Fn(Item) -> Result<T, StoreError>,
) -> Result<crate::ports::Page<T>, StoreError> {
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(encode_index_cursor)
    } else {
        None
    };
    let items = items
        .into_iter()
        .map(entity_of)
        .collect::<Result<_, StoreError>>()?;
    Ok(crate::ports::Page { items, next_cursor })
}

/// A put inside a transaction that fails its condition when the key exists: how every
/// uniqueness guard and new entity is written.
pub fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(unavailable)?;
    Ok(TransactWriteItem::builder().put(put).build())
}
