//! [`IdentityStore`] on the write table (keys in `keys.rs`), with these attributes:
//!
//! | item | attributes |
//! |---|---|
//! | refresh token | `family_id`, `user_id`, `state` (`unused`/`used`), `expires_at` (TTL) |
//! | refresh-token family | `user_id`, `revoked`, `generation`, `expires_at` (TTL) |
//! | a user's session generation | `generation` |
//! | login failure counter | `attempts`, `expires_at` (TTL) |
//! | password-reset token | `user_id`, `used`, `expires_at` (TTL) |
//!
//! A family records the user's session generation when it starts; a password reset bumps
//! the generation, which revokes every family of the user at once without finding them
//! (DynamoDB cannot update "all items of a user" atomically, but one counter it can).

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem, Update,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::keys;
use super::outbox::outbox_puts;
use super::table::{n, number, parsed, s, string, unavailable, Cancelled, Item};
use super::DynamoStore;
use crate::auth::refresh::REFRESH_TOKEN_TTL;
use crate::domain::{Envelope, UserId};
use crate::ports::{Committed, IdentityStore, RefreshToken, Rotation, StoreError};

const UNUSED: &str = "unused";
const USED: &str = "used";

fn flag(item: &Item, name: &str) -> bool {
    matches!(item.get(name), Some(AttributeValue::Bool(true)))
}

fn token_item(hash: &str, family_id: Uuid, user_id: UserId, expires_at: OffsetDateTime) -> Item {
    let mut item = keys::refresh_token(hash).item();
    item.insert("family_id".into(), s(family_id.to_string()));
    item.insert("user_id".into(), s(user_id.to_string()));
    item.insert("state".into(), s(UNUSED));
    item.insert("expires_at".into(), n(expires_at.unix_timestamp()));
    item
}

impl DynamoStore {
    async fn generation(&self, user_id: UserId) -> Result<i64, StoreError> {
        Ok(self
            .table
            .get(&keys::session_generation(user_id))
            .await?
            .and_then(|item| number(&item, "generation"))
            .unwrap_or(0))
    }

    async fn revoke_family(&self, family_id: Uuid) -> Result<(), StoreError> {
        self.table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(keys::refresh_family(family_id).item()))
            .update_expression("SET revoked = :yes")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map(|_| ())
            .or_else(|error| match error.as_service_error() {
                // No such family: nothing to revoke.
                Some(e) if e.is_conditional_check_failed_exception() => Ok(()),
                _ => Err(unavailable(error)),
            })
    }
}

#[async_trait]
impl IdentityStore for DynamoStore {
    async fn start_refresh_family(
        &self,
        token: &RefreshToken,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let generation = self.generation(token.user_id).await?;
        let mut family = keys::refresh_family(token.family_id).item();
        family.insert("user_id".into(), s(token.user_id.to_string()));
        family.insert("revoked".into(), AttributeValue::Bool(false));
        family.insert("generation".into(), n(generation));
        family.insert(
            "expires_at".into(),
            n((now + REFRESH_TOKEN_TTL).unix_timestamp()),
        );
        let items = vec![
            self.table.put_new(family)?,
            self.table.put_new(token_item(
                &token.hash,
                token.family_id,
                token.user_id,
                token.expires_at,
            ))?,
        ];
        self.table
            .transact(items)
            .await
            .map_err(|cancelled| match cancelled {
                Cancelled::Conditions(_) => StoreError::Corrupt("refresh token collision".into()),
                Cancelled::Other(e) => e,
            })
    }

    async fn rotate_refresh_token(
        &self,
        presented: &str,
        next_hash: &str,
        next_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError> {
        let Some(old) = self.table.get(&keys::refresh_token(presented)).await? else {
            return Ok(Rotation::Refused);
        };
        let family_id = parsed(&old, "family_id")?;
        let user_id = parsed(&old, "user_id")?;
        // TTL deletion lags by hours: an expired token is refused, not trusted.
        if number(&old, "expires_at").unwrap_or(0) <= now.unix_timestamp() {
            return Ok(Rotation::Refused);
        }
        if string(&old, "state") != Some(UNUSED) {
            self.revoke_family(family_id).await?;
            return Ok(Rotation::Reused { family_id });
        }
        let Some(family) = self.table.get(&keys::refresh_family(family_id)).await? else {
            return Ok(Rotation::Refused);
        };
        if flag(&family, "revoked") {
            return Ok(Rotation::Refused);
        }
        let generation = number(&family, "generation").unwrap_or(0);

        let table = self.table.name.as_str();
        let use_old = Update::builder()
            .table_name(table)
            .set_key(Some(keys::refresh_token(presented).item()))
            .update_expression("SET #state = :used")
            .condition_expression("#state = :unused")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":used", s(USED))
            .expression_attribute_values(":unused", s(UNUSED))
            .build()
            .map_err(unavailable)?;
        let extend_family = Update::builder()
            .table_name(table)
            .set_key(Some(keys::refresh_family(family_id).item()))
            .update_expression("SET expires_at = :expires")
            .condition_expression("revoked = :no")
            .expression_attribute_values(":expires", n(next_expires_at.unix_timestamp()))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .build()
            .map_err(unavailable)?;
        let same_generation = ConditionCheck::builder()
            .table_name(table)
            .set_key(Some(keys::session_generation(user_id).item()))
            .condition_expression("attribute_not_exists(pk) OR generation = :generation")
            .expression_attribute_values(":generation", n(generation))
            .build()
            .map_err(unavailable)?;
        let items = vec![
            TransactWriteItem::builder().update(use_old).build(),
            self.table
                .put_new(token_item(next_hash, family_id, user_id, next_expires_at))?,
            TransactWriteItem::builder().update(extend_family).build(),
            TransactWriteItem::builder()
                .condition_check(same_generation)
                .build(),
        ];
        match self.table.transact(items).await {
            Ok(()) => Ok(Rotation::Rotated { user_id, family_id }),
            // Another refresh of this very token won the race: a replay, by definition.
            Err(Cancelled::Conditions(reasons)) if Cancelled::failed(&reasons, 0) => {
                self.revoke_family(family_id).await?;
                Ok(Rotation::Reused { family_id })
            }
            Err(Cancelled::Conditions(_)) => Ok(Rotation::Refused),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    async fn revoke_refresh_family(&self, presented: &str) -> Result<bool, StoreError> {
        let Some(token) = self.table.get(&keys::refresh_token(presented)).await? else {
            return Ok(false);
        };
        self.revoke_family(parsed(&token, "family_id")?).await?;
        Ok(true)
    }

    async fn login_failures(&self, key: &str, window_start: i64) -> Result<u32, StoreError> {
        Ok(self
            .table
            .get(&keys::throttle(key, window_start))
            .await?
            .and_then(|item| number(&item, "attempts"))
            .and_then(|count| u32::try_from(count).ok())
            .unwrap_or(0))
    }

    async fn record_login_failure(
        &self,
        key: &str,
        window_start: i64,
        window_end: i64,
    ) -> Result<u32, StoreError> {
        let output = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(keys::throttle(key, window_start).item()))
            .update_expression("ADD attempts :one SET expires_at = :end")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":end", n(window_end))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output
            .attributes
            .as_ref()
            .and_then(|item| number(item, "attempts"))
            .and_then(|count| u32::try_from(count).ok())
            .unwrap_or(u32::MAX))
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user_id: UserId,
        expires_at: OffsetDateTime,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        let mut reset = keys::password_reset(token_hash).item();
        reset.insert("user_id".into(), s(user_id.to_string()));
        reset.insert("used".into(), AttributeValue::Bool(false));
        reset.insert("expires_at".into(), n(expires_at.unix_timestamp()));
        let mut items = vec![self.table.put_new(reset)?];
        items.extend(outbox_puts(&self.table, outbox)?);
        self.table
            .transact(items)
            .await
            .map_err(|cancelled| match cancelled {
                Cancelled::Conditions(_) => StoreError::Corrupt("reset token collision".into()),
                Cancelled::Other(e) => e,
            })?;
        Ok(Committed::new((), outbox.to_vec()))
    }

    async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError> {
        let Some(reset) = self.table.get(&keys::password_reset(token_hash)).await? else {
            return Ok(None);
        };
        let user_id = parsed(&reset, "user_id")?;
        let table = self.table.name.as_str();
        let consume = Update::builder()
            .table_name(table)
            .set_key(Some(keys::password_reset(token_hash).item()))
            .update_expression("SET used = :yes")
            .condition_expression("used = :no AND expires_at > :now")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":no", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .build()
            .map_err(unavailable)?;
        let set_password = Update::builder()
            .table_name(table)
            .set_key(Some(keys::user(user_id).item()))
            .update_expression("SET password_hash = :hash")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":hash", s(password_hash))
            .build()
            .map_err(unavailable)?;
        let revoke_sessions = Update::builder()
            .table_name(table)
            .set_key(Some(keys::session_generation(user_id).item()))
            .update_expression("ADD generation :one")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(unavailable)?;
        let items = vec![
            TransactWriteItem::builder().update(consume).build(),
            TransactWriteItem::builder().update(set_password).build(),
            TransactWriteItem::builder().update(revoke_sessions).build(),
        ];
        match self.table.transact(items).await {
            Ok(()) => Ok(Some(user_id)),
            Err(Cancelled::Conditions(_)) => Ok(None),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }
}
