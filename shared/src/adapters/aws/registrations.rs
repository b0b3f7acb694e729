//! [`RegistrationStore`] on the write table. Every invariant is a DynamoDB condition in one
//! `TransactWriteItems` with the write's outbox entries:
//!
//! - a seat: `confirmed < max_capacity AND waitlisted = 0` on the event item (nobody takes
//!   a seat ahead of the queue), `confirmed + 1` — held seats (PENDING_PAYMENT) count;
//! - a waitlist place: `waitlist_enabled AND (confirmed >= max_capacity OR waitlisted > 0)`
//!   on the event, `waitlisted + 1`, and a queue item `WAIT#<time>#<id>` in the event's
//!   partition;
//! - one live registration per (event, email): a guard item put on `attribute_not_exists`;
//! - cancel: the registration is replaced on condition of its version, and its seat
//!   released as `seats.rs` describes;
//! - check-in: replaced on condition it is CONFIRMED; a ticket: an item of its own, put
//!   once, on condition the registration is CONFIRMED;
//! - the revocation list: the `gsi2` keys a cancelled registration's item carries
//!   (`seats.rs`), written by the same `Put` that cancels it.

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use time::OffsetDateTime;

use super::keys::{self, GSI1, GSI2};
use super::outbox::outbox_puts;
use super::seats::Versioned;
use super::table::{decode_cursor, entity, n, s, string, unavailable, Cancelled, Item};
use super::DynamoStore;
use crate::domain::{
    cancellation_events, promotion_event, Envelope, EventId, EventStatus, Promotion, Refusal,
    Registration, RegistrationId, RegistrationStatus, Release, Revocation,
};
use crate::ports::{Cancellation, Committed, Page, RegistrationStore, StoreError};

/// Each round means the event changed between reading the waitlist and writing: concurrent
/// cancellations all aim at the head of the waitlist and one wins per round, so the budget
/// covers a burst of that many; beyond it the caller comes back (503).
const RACES: u32 = 24;

/// Waits a little before the next round, jittered so the losers of a round do not collide
/// again in lockstep.
async fn back_off(round: u32) {
    if round > 0 {
        let jitter = rand::random::<u64>() % (5 * u64::from(round.min(8)));
        tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
    }
}

impl DynamoStore {
    /// Puts `after` for `before` with `outbox`, on condition of its version and of its
    /// event being PUBLISHED: `Ok(false)` when the registration changed since it was read
    /// (look again), [`Refusal::EventClosed`] when the event is not open.
    async fn replace_in_open_event(
        &self,
        before: &Versioned,
        after: &Registration,
        outbox: &[Envelope],
    ) -> Result<bool, StoreError> {
        let mut items = vec![
            self.replace(before, after)?,
            self.event_still(after.event_id, true)?,
        ];
        items.extend(outbox_puts(&self.table, outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(true),
            Err(Cancelled::Conditions(reasons)) if Cancelled::failed(&reasons, 1) => {
                Err(Refusal::EventClosed.into())
            }
            Err(Cancelled::Conditions(_)) => Ok(false),
            Err(Cancelled::Other(e)) => Err(e),
        }
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
            .expression_attribute_values(":zero", n(0))
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
        let mut items = vec![
            self.table.put_new(guard)?,
            self.table
                .put_new(self.registration_item(registration, 1)?)?,
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
    ) -> Result<Committed<()>, StoreError> {
        let mut items = vec![event_condition];
        items.extend(self.registration_puts(registration, outbox)?);
        let reasons = match self.table.transact(items).await {
            Ok(()) => return Ok(Committed::new((), outbox.to_vec())),
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

    /// One attempt to give a free seat of `event_id` to the head of its waitlist:
    /// `Some(outcome)` when settled (the promoted registration, or `None` when no seat is
    /// free or nobody waits), `None` when the waitlist changed under it (look again).
    async fn promote_once(
        &self,
        event_id: EventId,
        promotion: &Promotion,
        at: OffsetDateTime,
    ) -> Result<Option<Option<Committed<Registration>>>, StoreError> {
        let Some(waiting) = self.first_waitlisted(event_id).await? else {
            return Ok(Some(None));
        };
        let takes_seat = self.event_condition(
            event_id,
            "SET confirmed = confirmed + :one, waitlisted = waitlisted - :one",
            // A cancelled event passes no seats on.
            "#status = :published AND confirmed < max_capacity AND waitlisted > :zero",
            &[],
        )?;
        let (promotion_items, promoted) = self.promotion_items(&waiting, promotion)?;
        let outbox = vec![promotion_event(&promoted, at)];
        let mut items = vec![takes_seat];
        items.extend(promotion_items);
        items.extend(outbox_puts(&self.table, &outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(Some(Some(Committed::new(promoted, outbox)))),
            // No seat free any more: done.
            Err(Cancelled::Conditions(reasons)) if Cancelled::failed(&reasons, 0) => Ok(Some(None)),
            // The head of the queue moved: look again.
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
    ) -> Result<Committed<()>, StoreError> {
        let take_seat = self.event_condition(
            registration.event_id,
            "SET confirmed = confirmed + :one",
            "#status = :published AND confirmed < max_capacity \
             AND (attribute_not_exists(waitlisted) OR waitlisted = :zero)",
            &[],
        )?;
        self.register_with(take_seat, registration, outbox, |_| StoreError::EventFull)
            .await
    }

    async fn waitlist(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        let queued = self.event_condition(
            registration.event_id,
            "SET waitlisted = if_not_exists(waitlisted, :zero) + :one",
            "#status = :published AND waitlist_enabled = :on \
             AND (confirmed >= max_capacity OR waitlisted > :zero)",
            &[(":on", AttributeValue::Bool(true))],
        )?;
        self.register_with(queued, registration, outbox, |event| {
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
        release: &Release,
    ) -> Result<Committed<Cancellation>, StoreError> {
        for round in 0..RACES {
            back_off(round).await;
            let before = self.load(id).await?;
            before.registration.refuse_cancel()?;
            if !self.event_is_open(before.registration.event_id).await? {
                return Err(Refusal::EventClosed.into());
            }
            let cancelled = before.registration.cancelled(at);
            let transition = self.replace(&before, &cancelled)?;
            let released = self
                .release_once(
                    &before.registration,
                    transition,
                    &release.promotion,
                    true,
                    |promoted| {
                        cancellation_events(&before.registration, promoted, release.refund, at)
                    },
                )
                .await?;
            if let Some(released) = released {
                let cancellation = Cancellation {
                    cancelled,
                    promoted: released.promoted,
                };
                return Ok(Committed::new(cancellation, released.outbox));
            }
        }
        Err(StoreError::Contended)
    }

    async fn promote(
        &self,
        event_id: EventId,
        promotion: &Promotion,
        at: OffsetDateTime,
    ) -> Result<Option<Committed<Registration>>, StoreError> {
        for round in 0..RACES {
            back_off(round).await;
            if let Some(outcome) = self.promote_once(event_id, promotion, at).await? {
                return Ok(outcome);
            }
        }
        Err(StoreError::Contended)
    }

    async fn update_details(
        &self,
        updated: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError> {
        for round in 0..RACES {
            back_off(round).await;
            let before = self.load(updated.id).await?;
            if before.registration.status == RegistrationStatus::Cancelled {
                return Err(Refusal::Cancelled.into());
            }
            let after = Registration {
                full_name: updated.full_name.clone(),
                phone: updated.phone.clone(),
                ..before.registration.clone()
            };
            if self.replace_in_open_event(&before, &after, outbox).await? {
                return Ok(Committed::new(after, outbox.to_vec()));
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
    ) -> Result<Committed<Registration>, StoreError> {
        for round in 0..RACES {
            back_off(round).await;
            let before: Versioned = self.load(id).await?;
            if before.registration.event_id != event_id {
                return Err(StoreError::RegistrationNotFound);
            }
            before.registration.refuse_check_in()?;
            let checked_in = before.registration.checked_in(at);
            // Another scan (or a cancellation) winning makes the next round say what it left.
            if self
                .replace_in_open_event(&before, &checked_in, outbox)
                .await?
            {
                return Ok(Committed::new(checked_in, outbox.to_vec()));
            }
        }
        Err(StoreError::Contended)
    }

    async fn record_ticket(
        &self,
        registration: &Registration,
        ticket: &str,
        outbox: &[Envelope],
    ) -> Result<Committed<bool>, StoreError> {
        let (id, event_id) = (registration.id, registration.event_id);
        let confirmed = ConditionCheck::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::registration(id).item()))
            .condition_expression("#status = :confirmed")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":confirmed", s(RegistrationStatus::Confirmed.as_str()))
            .build()
            .map_err(unavailable)?;
        let mut item = keys::ticket(id).item();
        item.insert("ticket".into(), s(ticket));
        let mut items = vec![
            TransactWriteItem::builder()
                .condition_check(confirmed)
                .build(),
            self.event_still(event_id, true)?,
            self.table.put_new(item)?,
        ];
        items.extend(outbox_puts(&self.table, outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(Committed::new(true, outbox.to_vec())),
            Err(Cancelled::Conditions(_)) => Ok(Committed::new(false, Vec::new())),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }

    async fn ticket(&self, id: RegistrationId) -> Result<Option<String>, StoreError> {
        Ok(self
            .table
            .get(&keys::ticket(id))
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
                .query()
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

    async fn revocations(
        &self,
        event_id: EventId,
        after: Option<Revocation>,
        limit: usize,
    ) -> Result<Vec<Revocation>, StoreError> {
        let partition = keys::revocations_partition(event_id);
        let after = after.map(|after| keys::by_time(after.revoked_at, after.registration_id));
        let query = |start: Option<Item>| {
            let query = self
                .table
                .query()
                .expression_attribute_values(":revoked", s(&partition))
                .set_exclusive_start_key(start);
            // DynamoDB takes no empty string in a key condition: no `after`, no condition.
            match &after {
                Some(after) => query
                    .key_condition_expression("gsi2pk = :revoked AND gsi2sk > :after")
                    .expression_attribute_values(":after", s(after)),
                None => query.key_condition_expression("gsi2pk = :revoked"),
            }
        };
        let page = self.table.page(GSI2, limit, None, query, entity).await?;
        Ok(page
            .items
            .iter()
            .filter_map(Registration::revocation)
            .collect())
    }
}
