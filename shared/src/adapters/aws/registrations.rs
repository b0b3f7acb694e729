//! [`RegistrationStore`] on the write table. Every invariant is a DynamoDB condition in one
//! `TransactWriteItems` with the write's outbox entries:
//!
//! - a seat: `confirmed < max_capacity` on the event item, `confirmed + 1`;
//! - a waitlist place: `confirmed >= max_capacity AND waitlist_enabled` on the event,
//!   `waitlisted + 1`, and a queue item `WAIT#<time>#<id>` in the event's partition;
//! - one live registration per (event, email): a guard item put on `attribute_not_exists`;
//! - cancel: the registration moves on condition of its status; a released seat passes to
//!   the head of the queue in the same transaction (`confirmed` never drops, so no newcomer
//!   can take it); with nobody queued, `confirmed - 1` on condition `waitlisted = 0`, so a
//!   registration waitlisted concurrently makes the cancellation retry and promote it;
//! - check-in: `status = CONFIRMED` → `CHECKED_IN`; tickets: `attribute_not_exists(ticket)`.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::keys::{self, GSI1, WAITLIST_PREFIX};
use super::outbox::outbox_puts;
use super::table::{
    decode_cursor, entity, item_with_keys, n, parsed, s, string, unavailable, Cancelled, Item,
};
use super::DynamoStore;
use crate::domain::{
    cancellation_events, Envelope, EventId, EventStatus, Registration, RegistrationId,
    RegistrationStatus,
};
use crate::ports::{Cancellation, Page, RegistrationStore, StoreError};

/// Each round means the event changed between reading the waitlist and writing: concurrent
/// cancellations all aim at the head of the waitlist and one wins per round, so the budget
/// covers a burst of that many; beyond it the caller comes back (503).
const CANCEL_RACES: u32 = 24;

impl DynamoStore {
    /// Moves `registration` to `to`, on condition that nobody moved it meanwhile.
    fn transition(
        &self,
        registration: &Registration,
        to: RegistrationStatus,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::registration(registration.id).item()))
            .update_expression("SET #status = :to")
            .condition_expression("#status = :from")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":to", s(to.as_str()))
            .expression_attribute_values(":from", s(registration.status.as_str()))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn delete(&self, key: keys::Key, must_exist: bool) -> Result<TransactWriteItem, StoreError> {
        let mut delete = Delete::builder()
            .table_name(&self.table.name)
            .set_key(Some(key.item()));
        if must_exist {
            delete = delete.condition_expression("attribute_exists(pk)");
        }
        Ok(TransactWriteItem::builder()
            .delete(delete.build().map_err(unavailable)?)
            .build())
    }

    /// An update of the event item's counters with its condition.
    fn counter_update(
        &self,
        event_id: EventId,
        expression: &str,
        condition: &str,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::event(event_id).item()))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// The condition-and-count on the event item that a registration's transaction opens
    /// with; `AllOld` so a refusal can say why without another read.
    fn event_condition(
        &self,
        event_id: EventId,
        expression: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::event(event_id).item()))
            .update_expression(expression)
            .condition_expression(condition)
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":published", s(EventStatus::Published.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (name, value) in values {
            update = update.expression_attribute_values(*name, value.clone());
        }
        Ok(TransactWriteItem::builder()
            .update(update.build().map_err(unavailable)?)
            .build())
    }

    /// The (event, email) guard, the registration (and its queue item when waitlisted) and
    /// the outbox: what follows the event's condition in both the seat and the waitlist
    /// transactions.
    fn registration_puts(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let mut guard = keys::registration_guard(registration.event_id, &registration.email).item();
        guard.insert("registration_id".into(), s(registration.id.to_string()));
        let key = keys::registration(registration.id);
        let registration_item = item_with_keys(
            registration,
            &[
                ("pk", s(key.pk)),
                ("sk", s(key.sk)),
                (
                    GSI1.hash,
                    s(keys::registrations_partition(registration.event_id)),
                ),
                (
                    GSI1.range,
                    s(keys::by_time(registration.created_at, registration.id)),
                ),
            ],
        )?;
        let mut items = vec![
            self.table.put_new(guard)?,
            self.table.put_new(registration_item)?,
        ];
        if registration.status == RegistrationStatus::Waitlisted {
            let mut entry = keys::waitlist_entry(registration).item();
            entry.insert("registration_id".into(), s(registration.id.to_string()));
            items.push(self.table.put_new(entry)?);
        }
        items.extend(outbox_puts(&self.table, outbox)?);
        Ok(items)
    }

    /// One round trip: `[condition on the event, guard, registration, …, outbox…]` commit
    /// together or not at all. A refusal names a duplicate first, then whatever the event
    /// said when its condition failed (`refusal` reads the event as it was then).
    async fn register_with(
        &self,
        event_condition: TransactWriteItem,
        registration: &Registration,
        outbox: &[Envelope],
        refusal: fn(&Item) -> StoreError,
    ) -> Result<(), StoreError> {
        let mut items = vec![event_condition];
        items.extend(self.registration_puts(registration, outbox)?);
        let reasons = match self.table.transact(items).await {
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
            None => self.table.get(&keys::event(registration.event_id)).await?,
        };
        Err(match old_event {
            None => StoreError::EventNotFound,
            Some(item) if string(&item, "status") != Some(EventStatus::Published.as_str()) => {
                StoreError::EventNotOpen
            }
            Some(item) => refusal(&item),
        })
    }

    async fn load(&self, id: RegistrationId) -> Result<Registration, StoreError> {
        self.table
            .get_entity(&keys::registration(id))
            .await?
            .ok_or(StoreError::RegistrationNotFound)
    }

    /// The head of the event's waitlist, read strongly consistent from the base table.
    async fn first_waitlisted(
        &self,
        event_id: EventId,
    ) -> Result<Option<Registration>, StoreError> {
        let output = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
            .key_condition_expression("pk = :pk AND begins_with(sk, :wait)")
            .expression_attribute_values(":pk", s(keys::event_partition(event_id)))
            .expression_attribute_values(":wait", s(WAITLIST_PREFIX))
            .consistent_read(true)
            .limit(1)
            .send()
            .await
            .map_err(unavailable)?;
        let Some(entry) = output.items.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let id = parsed(&entry, "registration_id")?;
        self.load(id).await.map(Some)
    }

    /// One attempt at a cancellation from what was read at its start.
    async fn cancel_once(
        &self,
        before: &Registration,
        at: OffsetDateTime,
    ) -> Result<Option<Cancellation>, StoreError> {
        let event_id = before.event_id;
        let mut items = vec![
            self.transition(before, RegistrationStatus::Cancelled)?,
            // The email may register again.
            self.delete(keys::registration_guard(event_id, &before.email), false)?,
        ];
        let leaves_queue = "SET waitlisted = waitlisted - :one";
        let promoted = if before.status == RegistrationStatus::Waitlisted {
            items.push(self.delete(keys::waitlist_entry(before), true)?);
            items.push(self.counter_update(event_id, leaves_queue, "waitlisted > :zero")?);
            None
        } else if let Some(waiting) = self.first_waitlisted(event_id).await? {
            items.push(self.transition(&waiting, RegistrationStatus::Confirmed)?);
            items.push(self.delete(keys::waitlist_entry(&waiting), true)?);
            items.push(self.counter_update(event_id, leaves_queue, "waitlisted > :zero")?);
            Some(waiting)
        } else {
            items.push(self.counter_update(
                event_id,
                "SET confirmed = confirmed - :one",
                "attribute_not_exists(waitlisted) OR waitlisted = :zero",
            )?);
            None
        };
        let outbox = cancellation_events(before, promoted.as_ref(), at);
        items.extend(outbox_puts(&self.table, &outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(Some(Cancellation {
                cancelled: before.with_status(RegistrationStatus::Cancelled),
                promoted: promoted.map(|p| p.with_status(RegistrationStatus::Confirmed)),
                outbox,
            })),
            // Someone changed the registration, the waitlist or the counts: look again.
            Err(Cancelled::Conditions(_)) => Ok(None),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }
}

#[async_trait]
impl RegistrationStore for DynamoStore {
    async fn register(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<(), StoreError> {
        let take_seat = self.event_condition(
            registration.event_id,
            "SET confirmed = confirmed + :one",
            "#status = :published AND confirmed < max_capacity",
            &[],
        )?;
        self.register_with(take_seat, registration, outbox, |_| StoreError::EventFull)
            .await
    }

    async fn waitlist(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<(), StoreError> {
        let full_with_waitlist = self.event_condition(
            registration.event_id,
            "SET waitlisted = if_not_exists(waitlisted, :zero) + :one",
            "#status = :published AND waitlist_enabled = :on AND confirmed >= max_capacity",
            &[(":zero", n(0)), (":on", AttributeValue::Bool(true))],
        )?;
        self.register_with(full_with_waitlist, registration, outbox, |event| {
            if event.get("waitlist_enabled") == Some(&AttributeValue::Bool(true)) {
                StoreError::SeatAvailable
            } else {
                StoreError::EventFull
            }
        })
        .await
    }

    async fn registration(&self, id: RegistrationId) -> Result<Option<Registration>, StoreError> {
        self.table.get_entity(&keys::registration(id)).await
    }

    async fn cancel(
        &self,
        id: RegistrationId,
        at: OffsetDateTime,
    ) -> Result<Cancellation, StoreError> {
        for round in 0..CANCEL_RACES {
            if round > 0 {
                // Jittered, so the losers of a round do not collide again in lockstep.
                let jitter = rand::random::<u64>() % (5 * u64::from(round.min(8)));
                tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
            }
            let before = self.load(id).await?;
            before.refuse_cancel()?;
            if let Some(cancellation) = self.cancel_once(&before, at).await? {
                return Ok(cancellation);
            }
        }
        Err(StoreError::Contended)
    }

    async fn check_in(
        &self,
        id: RegistrationId,
        event_id: EventId,
        at: OffsetDateTime,
        outbox: &[Envelope],
    ) -> Result<Registration, StoreError> {
        let registration = self.load(id).await?;
        if registration.event_id != event_id {
            return Err(StoreError::RegistrationNotFound);
        }
        registration.refuse_check_in()?;
        let at_text = at
            .format(&Rfc3339)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::registration(id).item()))
            .update_expression("SET #status = :checked_in, checked_in_at = :at")
            .condition_expression("#status = :confirmed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":checked_in", s(RegistrationStatus::CheckedIn.as_str()))
            .expression_attribute_values(":confirmed", s(RegistrationStatus::Confirmed.as_str()))
            .expression_attribute_values(":at", s(at_text))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(outbox_puts(&self.table, outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(registration.checked_in(at)),
            // Another scan won: say what it left behind.
            Err(Cancelled::Conditions(reasons)) => {
                let current: Registration = match reasons.first().and_then(|r| r.item().cloned()) {
                    Some(item) => entity(item)?,
                    None => self.load(id).await?,
                };
                current.refuse_check_in()?;
                Err(StoreError::Contended)
            }
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    async fn record_ticket(
        &self,
        id: RegistrationId,
        ticket: &str,
        outbox: &[Envelope],
    ) -> Result<bool, StoreError> {
        let update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::registration(id).item()))
            .update_expression("SET ticket = :ticket")
            .condition_expression("#status = :confirmed AND attribute_not_exists(ticket)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":ticket", s(ticket))
            .expression_attribute_values(":confirmed", s(RegistrationStatus::Confirmed.as_str()))
            .build()
            .map_err(unavailable)?;
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(outbox_puts(&self.table, outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(true),
            Err(Cancelled::Conditions(_)) => Ok(false),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    async fn ticket(&self, id: RegistrationId) -> Result<Option<String>, StoreError> {
        Ok(self
            .table
            .get(&keys::registration(id))
            .await?
            .and_then(|item| string(&item, "ticket").map(str::to_owned)))
    }

    async fn registrations(
        &self,
        event_id: EventId,
        status: Option<RegistrationStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Registration>, StoreError> {
        let partition = keys::registrations_partition(event_id);
        let start = cursor
            .map(|raw| decode_cursor(raw, GSI1, &partition))
            .transpose()?;
        let query = |start: Option<Item>| {
            let query = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .key_condition_expression("gsi1pk = :regs")
                .expression_attribute_values(":regs", s(&partition))
                .set_exclusive_start_key(start);
            match status {
                Some(status) => query
                    .filter_expression("#status = :status")
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", s(status.as_str())),
                None => query,
            }
        };
        self.table.page(GSI1, limit, start, query, entity).await
    }
}
