//! [`IdempotencyStore`] on the write table: one `IDEM#<key>` item per key holding the
//! claimant's `fingerprint`, its `lease_until` and, once done, its `outcome`; `expires_at`
//! is the TTL attribute. A claim is one conditional put, so of concurrent claimants exactly
//! one acquires.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use time::{Duration, OffsetDateTime};

use super::keys;
use super::table::{n, s, string, unavailable};
use super::DynamoStore;
use crate::ports::{Claim, IdempotencyStore, StoreError};

#[async_trait]
impl IdempotencyStore for DynamoStore {
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let record = keys::idempotency(key);
        let mut item = record.item();
        item.insert("fingerprint".into(), s(fingerprint));
        item.insert("lease_until".into(), n((now + lease).unix_timestamp()));
        item.insert("expires_at".into(), n((now + ttl).unix_timestamp()));
        // TTL deletion lags by hours, so an expired record counts as absent.
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at <= :now \
                 OR (attribute_not_exists(outcome) AND lease_until <= :now)",
            )
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let held = match result {
            Ok(_) => return Ok(Claim::Acquired),
            Err(error) => match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    failed.item().cloned()
                }
                _ => return Err(unavailable(error)),
            },
        };
        let held = match held {
            Some(item) => item,
            // Not every DynamoDB-compatible API returns the old item; read it then.
            None => self
                .table
                .get(&record)
                .await?
                .ok_or(StoreError::Contended)?,
        };
        let fingerprint = string(&held, "fingerprint").unwrap_or_default().to_owned();
        Ok(match string(&held, "outcome") {
            Some(outcome) => Claim::Completed {
                fingerprint,
                outcome: outcome.to_owned(),
            },
            None => Claim::InFlight { fingerprint },
        })
    }

    async fn complete(&self, key: &str, outcome: &str) -> Result<(), StoreError> {
        self.table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(keys::idempotency(key).item()))
            .update_expression("SET outcome = :outcome")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":outcome", s(outcome))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        let result = self
            .table
            .client
            .delete_item()
            .table_name(&self.table.name)
            .set_key(Some(keys::idempotency(key).item()))
            .condition_expression("attribute_not_exists(outcome)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Completed meanwhile: the outcome stands.
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}
