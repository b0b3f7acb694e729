//! The write table (single-table design). Every invariant is a DynamoDB condition inside
//! one `TransactWriteItems`, with the outbox entries of the same write:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | user (`gsi1`: `USERS`, by email; see `users.rs`) | `USER#<id>` | `USER` |
//! | unique email guard | `EMAIL#<email>` | `EMAIL` |
//! | event (+ `confirmed` seat and `waitlisted` counters) | `EVENT#<id>` | `EVENT` |
//! | unique slug guard | `SLUG#<slug>` | `SLUG` |
//! | one registration per (event, email) guard | `EVENT#<id>` | `EMAIL#<email>` |
//! | registration (`gsi1`: by event, by time) | `REG#<id>` | `REG` |
//! | outbox entry (`gsi1`: oldest first) | `OUTBOX#<id>` | `OUTBOX` |
//!
//! Cancellation, check-in, tickets, the waitlist queue and idempotency records: see
//! `lifecycle.rs`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::dynamo::{
    entity, item_with_keys, key, n, number, put_new, s, string, transact, unavailable, Cancelled,
    Item,
};
use super::lifecycle::{registrations_index_pk, waitlist_entry_sk};
use crate::domain::{
    sortable_time, Envelope, Event, EventStatus, Registration, RegistrationStatus, User,
};
use crate::ports::{Cancellation, Claim, Page, Store, StoreError};

const OUTBOX_INDEX_PK: &str = "OUTBOX";
/// Outbox entries expire by TTL long after the sweeper would have republished them; the
/// TTL only bounds what a broken sweeper could leave behind.
const OUTBOX_TTL: Duration = Duration::days(14);

pub struct DynamoStore {
    client: Client,
    table: String,
}

/// Registrations sort by creation time; the id breaks ties.
pub(super) fn by_time(registration: &Registration) -> String {
    format!(
        "{}#{}",
        sortable_time(registration.created_at),
        registration.id
    )
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub(super) fn client(&self) -> &Client {
        &self.client
    }

    pub(super) fn table(&self) -> &str {
        &self.table
    }

    pub(super) fn outbox_puts(
        &self,
        events: &[Envelope],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        events
            .iter()
            .map(|envelope| {
                let json = serde_json::to_string(envelope)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let mut item = key(format!("OUTBOX#{}", envelope.id), "OUTBOX");
                item.insert("envelope".into(), s(json));
                item.insert("gsi1pk".into(), s(OUTBOX_INDEX_PK));
                item.insert(
                    "gsi1sk".into(),
                    s(format!(
                        "{}#{}",
                        sortable_time(envelope.occurred_at),
                        envelope.id
                    )),
                );
                item.insert(
                    "expires_at".into(),
                    n((envelope.occurred_at + OUTBOX_TTL).unix_timestamp()),
                );
                put_new(&self.table, item)
            })
            .collect()
    }

    pub(super) async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    /// The (event, email) guard, the registration and its outbox entries: the puts that
    /// follow the event's condition in both the seat and the waitlist transactions.
    fn registration_puts(
        &self,
        registration: &Registration,
        events: &[Envelope],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let event_pk = format!("EVENT#{}", registration.event_id);
        let mut guard = key(&event_pk, format!("EMAIL#{}", registration.email));
        guard.insert("registration_id".into(), s(registration.id.to_string()));
        let registration_item = item_with_keys(
            registration,
            &[
                ("pk", s(format!("REG#{}", registration.id))),
                ("sk", s("REG")),
                ("gsi1pk", s(registrations_index_pk(registration.event_id))),
                ("gsi1sk", s(by_time(registration))),
            ],
        )?;
        let mut items = vec![
            put_new(&self.table, guard)?,
            put_new(&self.table, registration_item)?,
        ];
        if registration.status == RegistrationStatus::Waitlisted {
            let mut entry = key(&event_pk, waitlist_entry_sk(registration));
            entry.insert("registration_id".into(), s(registration.id.to_string()));
            items.push(put_new(&self.table, entry)?);
        }
        items.extend(self.outbox_puts(events)?);
        Ok(items)
    }

    /// One round trip: `[condition on the event, guard, registration, outbox…]` commit
    /// together or not at all. A refusal names a duplicate first, then whatever the event
    /// said when its condition failed (`refusal` reads the event as it was then).
    async fn register_with(
        &self,
        event_condition: TransactWriteItem,
        registration: &Registration,
        events: &[Envelope],
        refusal: fn(&Item) -> StoreError,
    ) -> Result<(), StoreError> {
        let mut items = vec![event_condition];
        items.extend(self.registration_puts(registration, events)?);
        let reasons = match transact(&self.client, items).await {
            Ok(()) => return Ok(()),
            Err(Cancelled::Other(e)) => return Err(e),
            Err(Cancelled::Conditions(reasons)) => reasons,
        };
        if Cancelled::failed(&reasons, 1) {
            return Err(StoreError::DuplicateRegistration);
        }
        if !Cancelled::failed(&reasons, 0) {
            return Err(StoreError::Corrupt("registration id collision".into()));
        }
        let old_event = match reasons.first().and_then(|r| r.item().cloned()) {
            Some(item) => Some(item),
            // Not every DynamoDB-compatible API returns the old item; read it then.
            None => {
                self.get(format!("EVENT#{}", registration.event_id), "EVENT")
                    .await?
            }
        };
        Err(match old_event {
            None => StoreError::EventNotFound,
            Some(item) if string(&item, "status") != Some(EventStatus::Published.as_str()) => {
                StoreError::EventNotOpen
            }
            Some(item) => refusal(&item),
        })
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn create_user(&self, user: &User, events: &[Envelope]) -> Result<(), StoreError> {
        let mut guard = key(format!("EMAIL#{}", user.email), "EMAIL");
        guard.insert("user_id".into(), s(user.id.to_string()));
        let mut items = vec![
            put_new(&self.table, guard)?,
            put_new(&self.table, super::users::user_item(user)?)?,
        ];
        items.extend(self.outbox_puts(events)?);
        transact(&self.client, items)
            .await
            .map_err(|cancelled| match cancelled {
                Cancelled::Conditions(reasons) if Cancelled::failed(&reasons, 0) => {
                    StoreError::EmailTaken
                }
                Cancelled::Conditions(_) => StoreError::Corrupt("user id collision".into()),
                Cancelled::Other(e) => e,
            })
    }

    async fn user(&self, id: Uuid) -> Result<Option<User>, StoreError> {
        self.get(format!("USER#{id}"), "USER")
            .await?
            .map(entity)
            .transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let Some(guard) = self.get(format!("EMAIL#{email}"), "EMAIL").await? else {
            return Ok(None);
        };
        let user_id = string(&guard, "user_id")
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| {
                StoreError::Corrupt(format!("email guard for {email} has no user id"))
            })?;
        self.user(user_id).await
    }

    async fn create_event(&self, event: &Event, events: &[Envelope]) -> Result<(), StoreError> {
        let mut guard = key(format!("SLUG#{}", event.slug), "SLUG");
        guard.insert("event_id".into(), s(event.id.to_string()));
        let event_item = item_with_keys(
            event,
            &[
                ("pk", s(format!("EVENT#{}", event.id))),
                ("sk", s("EVENT")),
                ("confirmed", n(0)),
                ("waitlisted", n(0)),
            ],
        )?;
        let mut items = vec![
            put_new(&self.table, guard)?,
            put_new(&self.table, event_item)?,
        ];
        items.extend(self.outbox_puts(events)?);
        transact(&self.client, items)
            .await
            .map_err(|cancelled| match cancelled {
                Cancelled::Conditions(reasons) if Cancelled::failed(&reasons, 0) => {
                    StoreError::SlugTaken
                }
                Cancelled::Conditions(_) => StoreError::Corrupt("event id collision".into()),
                Cancelled::Other(e) => e,
            })
    }

    async fn event(&self, id: Uuid) -> Result<Option<Event>, StoreError> {
        self.get(format!("EVENT#{id}"), "EVENT")
            .await?
            .map(entity)
            .transpose()
    }

    async fn register(
        &self,
        registration: &Registration,
        events: &[Envelope],
    ) -> Result<(), StoreError> {
        let take_seat = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                format!("EVENT#{}", registration.event_id),
                "EVENT",
            )))
            .update_expression("SET confirmed = confirmed + :one")
            .condition_expression("#status = :published AND confirmed < max_capacity")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":published", s(EventStatus::Published.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)?;
        let take_seat = TransactWriteItem::builder().update(take_seat).build();
        self.register_with(take_seat, registration, events, |_| StoreError::EventFull)
            .await
    }

    async fn waitlist(
        &self,
        registration: &Registration,
        events: &[Envelope],
    ) -> Result<(), StoreError> {
        let full_with_waitlist = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(
                format!("EVENT#{}", registration.event_id),
                "EVENT",
            )))
            .update_expression("SET waitlisted = if_not_exists(waitlisted, :zero) + :one")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .condition_expression(
                "#status = :published AND waitlist_enabled = :on AND confirmed >= max_capacity",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":published", s(EventStatus::Published.as_str()))
            .expression_attribute_values(":on", AttributeValue::Bool(true))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)?;
        let full_with_waitlist = TransactWriteItem::builder()
            .update(full_with_waitlist)
            .build();
        self.register_with(full_with_waitlist, registration, events, |event| {
            if event.get("waitlist_enabled") == Some(&AttributeValue::Bool(true)) {
                StoreError::SeatAvailable
            } else {
                StoreError::EventFull
            }
        })
        .await
    }

    async fn registration(&self, id: Uuid) -> Result<Option<Registration>, StoreError> {
        self.get(format!("REG#{id}"), "REG")
            .await?
            .map(entity)
            .transpose()
    }

    async fn confirmed_count(&self, event_id: Uuid) -> Result<u32, StoreError> {
        let item = self
            .get(format!("EVENT#{event_id}"), "EVENT")
            .await?
            .ok_or(StoreError::EventNotFound)?;
        number(&item, "confirmed")
            .and_then(|count| u32::try_from(count).ok())
            .ok_or_else(|| StoreError::Corrupt(format!("event {event_id} has no seat counter")))
    }

    async fn cancel(&self, id: Uuid, at: OffsetDateTime) -> Result<Cancellation, StoreError> {
        self.cancel_registration(id, at).await
    }

    async fn check_in(
        &self,
        id: Uuid,
        event_id: Uuid,
        at: OffsetDateTime,
        events: &[Envelope],
    ) -> Result<Registration, StoreError> {
        self.check_in_registration(id, event_id, at, events).await
    }

    async fn record_ticket(
        &self,
        id: Uuid,
        ticket: &str,
        events: &[Envelope],
    ) -> Result<bool, StoreError> {
        self.record_ticket_once(id, ticket, events).await
    }

    async fn ticket(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        self.stored_ticket(id).await
    }

    async fn registrations(
        &self,
        event_id: Uuid,
        status: Option<RegistrationStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Registration>, StoreError> {
        self.registrations_page(event_id, status, limit, cursor)
            .await
    }

    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        self.claim_key(key, fingerprint, now, lease, ttl).await
    }

    async fn complete(&self, key: &str, outcome: &str) -> Result<(), StoreError> {
        self.complete_key(key, outcome).await
    }

    async fn release(&self, key: &str) -> Result<(), StoreError> {
        self.release_key(key).await
    }

    async fn unpublished(&self, limit: usize) -> Result<Vec<Envelope>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name("gsi1")
            .key_condition_expression("gsi1pk = :outbox")
            .expression_attribute_values(":outbox", s(OUTBOX_INDEX_PK))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        output
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| {
                let json = string(item, "envelope")
                    .ok_or_else(|| StoreError::Corrupt("outbox item without envelope".into()))?;
                serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    async fn mark_published(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        for id in ids {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key(format!("OUTBOX#{id}"), "OUTBOX")))
                .send()
                .await
                .map_err(unavailable)?;
        }
        Ok(())
    }
}
