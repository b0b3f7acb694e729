//! Accounts for the ADMIN routes. Every user item also sits in the sparse `gsi1`
//! partition `USERS`, sorted by email (unique, so the order is total), which is what
//! `GET /users` pages through.

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnValue;
use uuid::Uuid;

use super::dynamo::{
    decode_index_cursor, entity, item_with_keys, key, page_of, s, unavailable, Item,
};
use super::store::DynamoStore;
use crate::domain::User;
use crate::ports::{Page, StoreError, UserChange, UserStore};

const USERS_INDEX_PK: &str = "USERS";

/// The user's item: its table key and its place in the `USERS` listing.
pub(super) fn user_item(user: &User) -> Result<Item, StoreError> {
    item_with_keys(
        user,
        &[
            ("pk", s(format!("USER#{}", user.id))),
            ("sk", s("USER")),
            ("gsi1pk", s(USERS_INDEX_PK)),
            ("gsi1sk", s(format!("{}#{}", user.email, user.id))),
        ],
    )
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn users(&self, limit: usize, cursor: Option<&str>) -> Result<Page<User>, StoreError> {
        let start = cursor
            .map(|raw| decode_index_cursor(raw, USERS_INDEX_PK))
            .transpose()?;
        // One item past the page says whether another page exists (see `page_of`).
        let mut items: Vec<Item> = Vec::with_capacity(limit + 1);
        let mut start = start;
        loop {
            let output = self
                .client()
                .query()
                .table_name(self.table())
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :users")
                .expression_attribute_values(":users", s(USERS_INDEX_PK))
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX))
                .send()
                .await
                .map_err(unavailable)?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        page_of(items, limit, entity)
    }

    async fn update_user(&self, id: Uuid, change: UserChange) -> Result<Option<User>, StoreError> {
        let mut sets = Vec::new();
        let mut update = self
            .client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(format!("USER#{id}"), "USER")))
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
                .expression_attribute_values(
                    ":active",
                    aws_sdk_dynamodb::types::AttributeValue::Bool(active),
                );
        }
        if sets.is_empty() {
            return self
                .get(format!("USER#{id}"), "USER")
                .await?
                .map(entity)
                .transpose();
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
