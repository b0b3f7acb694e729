//! [`UserStore`] on the write table. An email is unique through a guard item written in
//! the account's own transaction; every user item also sits in the sparse `gsi1` partition
//! `USERS`, sorted by email (unique, so the order is total), which `GET /users` pages.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::keys::{self, GSI1, USERS_PARTITION};
use super::outbox::outbox_puts;
use super::table::{decode_cursor, entity, item_with_keys, parsed, s, unavailable, Item};
use super::DynamoStore;
use crate::domain::{Envelope, User, UserId};
use crate::ports::{Committed, Page, StoreError, UserChange, UserStore};

/// The user's item: its table key and its place in the `USERS` listing.
fn user_item(user: &User) -> Result<Item, StoreError> {
    let key = keys::user(user.id);
    item_with_keys(
        user,
        &[
            ("pk", s(key.pk)),
            ("sk", s(key.sk)),
            (GSI1.hash, s(USERS_PARTITION)),
            (GSI1.range, s(keys::user_listing(&user.email, user.id))),
        ],
    )
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn create_user(
        &self,
        user: &User,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        let mut guard = keys::email_guard(&user.email).item();
        guard.insert("user_id".into(), s(user.id.to_string()));
        let mut items = vec![
            self.table.put_new(guard)?,
            self.table.put_new(user_item(user)?)?,
        ];
        items.extend(outbox_puts(&self.table, outbox)?);
        self.table
            .transact_guarded(items, StoreError::EmailTaken, "user")
            .await?;
        Ok(Committed::new((), outbox.to_vec()))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.table.get_entity(&keys::user(id)).await
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let Some(guard) = self.table.get(&keys::email_guard(email)).await? else {
            return Ok(None);
        };
        self.user(parsed(&guard, "user_id")?).await
    }

    async fn users(&self, limit: usize, cursor: Option<&str>) -> Result<Page<User>, StoreError> {
        let start = cursor
            .map(|raw| decode_cursor(raw, GSI1, USERS_PARTITION))
            .transpose()?;
        let query = |start: Option<Item>| {
            self.table
                .query()
                .key_condition_expression("gsi1pk = :users")
                .expression_attribute_values(":users", s(USERS_PARTITION))
                .set_exclusive_start_key(start)
        };
        self.table.page(GSI1, limit, start, query, entity).await
    }

    async fn update_user(
        &self,
        id: UserId,
        change: UserChange,
    ) -> Result<Option<User>, StoreError> {
        let mut sets = Vec::new();
        let mut update = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(keys::user(id).item()))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllNew);
        if let Some(role) = change.role {
            let role =
                serde_json::to_value(role).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let role = role.as_str().unwrap_or_default().to_owned();
            sets.push("#role = :role");
            update = update
                .expression_attribute_names("#role", "role")
                .expression_attribute_values(":role", s(role));
        }
        if let Some(active) = change.active {
            sets.push("#active = :active");
            update = update
                .expression_attribute_names("#active", "active")
                .expression_attribute_values(":active", AttributeValue::Bool(active));
        }
        if sets.is_empty() {
            return self.user(id).await;
        }
        let result = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        match result {
            Ok(output) => output.attributes.map(entity).transpose(),
            Err(SdkError::ServiceError(service))
                if matches!(
                    service.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
