//! The write table's registration lifecycle after the first write: cancellation with FIFO
//! promotion, check-in, tickets, per-event listing, and idempotency records.
//!
//! | item | pk | sk |
//! |---|---|---|
//! | waitlist entry, FIFO by creation | `EVENT#<id>` | `WAIT#<time>#<registration id>` |
//! | idempotency record (TTL `expires_at`) | `IDEM#<key>` | `IDEM` |
//!
//! The event item counts `waitlisted` beside `confirmed`: a cancellation that frees a seat
//! without promoting anyone is conditioned on that count being zero, so a registration
//! waitlisted concurrently makes it retry and promote instead.

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::dynamo::{
    decode_index_cursor, entity, key, n, page_of, s, string, transact, unavailable, Cancelled, Item,
};
use super::store::{by_time, DynamoStore};
use crate::domain::{cancellation_events, Envelope, Registration, RegistrationStatus};
use crate::ports::{refuse_check_in, refuse_uncancellable, Cancellation, Claim, Page, StoreError};

/// Each round means the event changed between reading the waitlist and writing: concurrent
/// cancellations all aim at the head of the waitlist and one wins per round, so the budget
/// covers a burst of that many; beyond it the caller comes back (503).
const CANCEL_RACES: u32 = 24;

pub(super) fn waitlist_entry_sk(registration: &Registration) -> String {
    format!("WAIT#{}", by_time(registration))
}

pub(super) fn registrations_index_pk(event_id: Uuid) -> String {
    format!("EVENT#{event_id}#REGS")
}

fn rfc3339(at: OffsetDateTime) -> Result<String, StoreError> {
    at.format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl DynamoStore {
    /// Moves `registration` to `to`, on condition that nobody moved it meanwhile.
    fn transition(
        &self,
        registration: &Registration,
        to: RegistrationStatus,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(format!("REG#{}", registration.id), "REG")))
            .update_expression("SET #status = :to")
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":from", s(registration.status.as_str()))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn delete(
        &self,
        pk: &str,
        sk: String,
        must_exist: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut delete = Delete::builder()
            .table_name(self.table())
            .set_key(Some(key(pk, sk)));
        if must_exist {
            delete = delete.condition_expression("attribute_exists(pk)");
        }
        Ok(TransactWriteItem::builder()
            .delete(delete.build().map_err(unavailable)?)
            .build())
    }

    fn count_update(
        &self,
        event_pk: &str,
        expression: &str,
        condition: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(event_pk, "EVENT")))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    async fn load_registration(&self, id: Uuid) -> Result<Registration, StoreError> {
        self.get(format!("REG#{id}"), "REG")
            .await?
            .map(entity)
            .transpose()?
            .ok_or(StoreError::RegistrationNotFound)
    }

    /// The head of the event's waitlist, read strongly consistent from the base table.
    async fn first_waitlisted(&self, event_pk: &str) -> Result<Option<Registration>, StoreError> {
        let output = self
            .client()
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :wait)")
            .expression_attribute_values(":pk", s(event_pk))
            .expression_attribute_values(":wait", s("WAIT#"))
            .consistent_read(true)
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(entry) = output.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let id = string(&entry, "registration_id")
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(|| StoreError::Corrupt("waitlist entry without registration".into()))?;
        self.load_registration(id).await.map(Some)
    }

    pub(super) async fn cancel_registration(
        &self,
        id: Uuid,
        at: OffsetDateTime,
    ) -> Result<Cancellation, StoreError> {
        for round in 0..CANCEL_RACES {
            if round > 0 {
                // Jittered, so the losers of a round do not collide again in lockstep.
                let jitter = rand::random::<u64>() % (5 * u64::from(round.min(8)));
                tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
            }
            let before = self.load_registration(id).await?;
            refuse_uncancellable(&before)?;
            let event_pk = format!("EVENT#{}", before.event_id);
            let mut items = vec![
                self.transition(&before, RegistrationStatus::Cancelled)?,
                // The email may register again.
                self.delete(&event_pk, format!("EMAIL#{}", before.email), false)?,
            ];
            let promoted = if before.status == RegistrationStatus::Waitlisted {
                items.push(self.delete(&event_pk, waitlist_entry_sk(&before), true)?);
                items.push(self.count_update(
                    &event_pk,
                    "SET waitlisted = waitlisted - :one",
                    "waitlisted > :zero",
                )?);
                None
            } else if let Some(waiting) = self.first_waitlisted(&event_pk).await? {
                // The seat passes straight to the head of the waitlist: `confirmed` never
                // drops, so no newcomer can take it in between.
                items.push(self.transition(&waiting, RegistrationStatus::Confirmed)?);
                items.push(self.delete(&event_pk, waitlist_entry_sk(&waiting), true)?);
                items.push(self.count_update(
                    &event_pk,
                    "SET waitlisted = waitlisted - :one",
                    "waitlisted > :zero",
                )?);
                Some(waiting)
            } else {
                items.push(self.count_update(
                    &event_pk,
                    "SET confirmed = confirmed - :one",
                    "attribute_not_exists(waitlisted) OR waitlisted = :zero",
                )?);
                None
            };
            let events = cancellation_events(&before, promoted.as_ref(), at);
            items.extend(self.outbox_puts(&events)?);
            match transact(self.client(), items).await {
                Ok(()) => {
                    return Ok(Cancellation {
                        cancelled: before.with_status(RegistrationStatus::Cancelled),
                        promoted: promoted.map(|p| p.with_status(RegistrationStatus::Confirmed)),
                        events,
                    })
                }
                // Someone changed the registration, the waitlist or the counts: look again.
                Err(Cancelled::Conditions(_)) => continue,
                Err(Cancelled::Other(e)) => return Err(e),
            }
        }
        Err(StoreError::Contended)
    }

    pub(super) async fn check_in_registration(
        &self,
        id: Uuid,
        event_id: Uuid,
        at: OffsetDateTime,
        events: &[Envelope],
    ) -> Result<Registration, StoreError> {
        let registration = self.load_registration(id).await?;
        if registration.event_id != event_id {
            return Err(StoreError::RegistrationNotFound);
        }
        refuse_check_in(&registration)?;
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(format!("REG#{id}"), "REG")))
            .update_expression("SET #status = :checked_in, checked_in_at = :at")
            .condition_expression("#status = :confirmed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":checked_in", s(RegistrationStatus::CheckedIn.as_str()))
            .expression_attribute_values(":confirmed", s(RegistrationStatus::Confirmed.as_str()))
            .expression_attribute_values(":at", s(rfc3339(at)?))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(self.outbox_puts(events)?);
        match transact(self.client(), items).await {
            Ok(()) => Ok(Registration {
                status: RegistrationStatus::CheckedIn,
                checked_in_at: Some(at),
                ..registration
            }),
            // Another scan won: say what it left behind.
            Err(Cancelled::Conditions(reasons)) => {
                let current = match reasons.first().and_then(|r| r.item().cloned()) {
                    Some(item) => entity(item)?,
                    None => self.load_registration(id).await?,
                };
                refuse_check_in(&current)?;
                Err(StoreError::Contended)
            }
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    pub(super) async fn record_ticket_once(
        &self,
        id: Uuid,
        ticket: &str,
        events: &[Envelope],
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(self.table())
            .set_key(Some(key(format!("REG#{id}"), "REG")))
            .update_expression("SET ticket = :ticket")
            .condition_expression("#status = :confirmed AND attribute_not_exists(ticket)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":ticket", s(ticket))
            .expression_attribute_values(":confirmed", s(RegistrationStatus::Confirmed.as_str()))
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(self.outbox_puts(events)?);
        match transact(self.client(), items).await {
            Ok(()) => Ok(true),
            Err(Cancelled::Conditions(_)) => Ok(false),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    pub(super) async fn stored_ticket(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        Ok(self
            .get(format!("REG#{id}"), "REG")
            .await?
            .and_then(|item| string(&item, "ticket").map(str::to_owned)))
    }

    pub(super) async fn registrations_page(
        &self,
        event_id: Uuid,
        status: Option<RegistrationStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Registration>, StoreError> {
        let index_pk = registrations_index_pk(event_id);
        let mut start = cursor
            .map(|raw| decode_index_cursor(raw, &index_pk))
            .transpose()?;
        // A status filter applies after DynamoDB's page limit, so keep reading until the
        // page is full (plus one item, which tells whether another page exists).
        let mut items: Vec<Item> = Vec::with_capacity(limit + 1);
        loop {
            let mut query = self
                .client()
                .query()
                .table_name(self.table())
                .index_name("gsi1")
                .key_condition_expression("gsi1pk = :regs")
                .expression_attribute_values(":regs", s(&index_pk))
                .set_exclusive_start_key(start.take())
                .limit(i32::try_from(limit + 1 - items.len()).unwrap_or(i32::MAX));
            if let Some(status) = status {
                query = query
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(status.as_str()));
            }
            let output = query.send().await.map_err(unavailable)?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        page_of(items, limit, entity)
    }

    pub(super) async fn claim_key(
        &self,
        idempotency_key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError> {
        let mut item = key(format!("IDEM#{idempotency_key}"), "IDEM");
        item.insert("fingerprint".into(), s(fingerprint));
        item.insert("lease_until".into(), n((now + lease).unix_timestamp()));
        item.insert("expires_at".into(), n((now + ttl).unix_timestamp()));
        // TTL deletion lags by hours, so an expired record counts as absent.
        let result = self
            .client()
            .put_item()
            .table_name(self.table())
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
            None => self
                .get(format!("IDEM#{idempotency_key}"), "IDEM")
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

    pub(super) async fn complete_key(
        &self,
        idempotency_key: &str,
        outcome: &str,
    ) -> Result<(), StoreError> {
        self.client()
            .update_item()
            .table_name(self.table())
            .set_key(Some(key(format!("IDEM#{idempotency_key}"), "IDEM")))
            .update_expression("SET outcome = :outcome")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":outcome", s(outcome))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    pub(super) async fn release_key(&self, idempotency_key: &str) -> Result<(), StoreError> {
        let result = self
            .client()
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key(format!("IDEM#{idempotency_key}"), "IDEM")))
            .condition_expression("attribute_not_exists(outcome)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Completed meanwhile: the outcome stands.
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}
