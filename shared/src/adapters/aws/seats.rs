//! What the registration and payment ports share on the write table: a registration's
//! item and its conditional replacement, and the release of a seat — passed to the head of
//! the waitlist or freed — which cancellations and lapsed holds both do.
//!
//! A registration item is replaced whole (a `Put`) on every change, on condition of its
//! `version` (an attribute only this module writes, one more each time): optimistic
//! concurrency, so no change is lost to a concurrent one; a loser reads again. While
//! PENDING_PAYMENT it carries `hold_expires_epoch` (unix seconds) and the `gsi2` keys
//! `HOLDS` / `<expiry>#<id>` that the holds expirer queries; once cancelled, the `gsi2`
//! keys of its event's revocation list instead. Either way the keys come from the
//! registration itself, in the same `Put` as the change that moves it, so the indexes can
//! never disagree with the status.

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};

use super::keys::{self, GSI1, GSI2, HOLDS_PARTITION, WAITLIST_PREFIX};
use super::outbox::outbox_puts;
use super::table::{
    entity, item_with_keys, n, number, parsed, s, string, unavailable, Cancelled, Item,
};
use super::DynamoStore;
use crate::domain::{
    Envelope, EventId, EventStatus, Promotion, Registration, RegistrationId, RegistrationStatus,
};
use crate::ports::StoreError;

/// A registration as read, with the version its replacement is conditioned on.
#[derive(Debug, Clone)]
pub(super) struct Versioned {
    pub registration: Registration,
    /// 1 when created, one more at each replacement; 0 for an item from before versions.
    pub version: i64,
}

/// What releasing a seat did.
pub(super) struct Released {
    pub promoted: Option<Registration>,
    pub outbox: Vec<Envelope>,
}

impl DynamoStore {
    /// `registration`'s item at `version`: its fields, its keys, its index keys.
    pub(super) fn registration_item(
        &self,
        registration: &Registration,
        version: i64,
    ) -> Result<Item, StoreError> {
        let key = keys::registration(registration.id);
        let mut extra = vec![
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
            ("version", n(version)),
        ];
        if let (RegistrationStatus::PendingPayment, Some(hold)) =
            (registration.status, &registration.hold)
        {
            extra.push(("hold_expires_epoch", n(hold.expires_at.unix_timestamp())));
            extra.push((GSI2.hash, s(HOLDS_PARTITION)));
            extra.push((
                GSI2.range,
                s(keys::by_time(hold.expires_at, registration.id)),
            ));
        }
        if let Some(revocation) = registration.revocation() {
            extra.push((
                GSI2.hash,
                s(keys::revocations_partition(registration.event_id)),
            ));
            extra.push((
                GSI2.range,
                s(keys::by_time(revocation.revoked_at, registration.id)),
            ));
        }
        item_with_keys(registration, &extra)
    }

    /// Puts `after` in place of the registration read as `before`, on condition nobody
    /// changed it since (its version): every decision about a registration is taken on the
    /// copy read, so an unchanged version makes it still true.
    pub(super) fn replace(
        &self,
        before: &Versioned,
        after: &Registration,
    ) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.table.name)
            .set_item(Some(self.registration_item(after, before.version + 1)?));
        // Items written before versions existed read as version 0 (created ones start at 1).
        let put = if before.version == 0 {
            put.condition_expression("attribute_not_exists(version)")
        } else {
            put.condition_expression("version = :version")
                .expression_attribute_values(":version", n(before.version))
        };
        let put = put.build().map_err(unavailable)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The registration `id` with its version, read strongly consistent.
    pub(super) async fn load(&self, id: RegistrationId) -> Result<Versioned, StoreError> {
        let item = self
            .table
            .get(&keys::registration(id))
            .await?
            .ok_or(StoreError::RegistrationNotFound)?;
        let version = number(&item, "version").unwrap_or(0);
        Ok(Versioned {
            registration: entity(item)?,
            version,
        })
    }

    /// A delete inside a transaction; on condition the item exists when `must_exist`.
    pub(super) fn delete(
        &self,
        key: keys::Key,
        must_exist: bool,
    ) -> Result<TransactWriteItem, StoreError> {
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

    /// An update of the event item's counters, on `condition` (`:one`, `:zero` bound) and
    /// on the event still being as `open` as it was read: PUBLISHED, or not.
    pub(super) fn counter_update(
        &self,
        event_id: EventId,
        expression: &str,
        condition: &str,
        open: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let state = if open {
            "#status = :published"
        } else {
            "#status <> :published"
        };
        let update = Update::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::event(event_id).item()))
            .update_expression(expression)
            .condition_expression(format!("{state} AND ({condition})"))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":published", s(EventStatus::Published.as_str()))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Whether the event is PUBLISHED (read strongly consistent): the state every change to
    /// one of its registrations is decided on, and conditioned on ([`Self::event_still`]).
    /// Fails with [`StoreError::EventNotFound`].
    pub(super) async fn event_is_open(&self, event_id: EventId) -> Result<bool, StoreError> {
        let item = self
            .table
            .get(&keys::event(event_id))
            .await?
            .ok_or(StoreError::EventNotFound)?;
        Ok(string(&item, "status") == Some(EventStatus::Published.as_str()))
    }

    /// A condition, inside a transaction, that the event is still as `open` as it was read.
    pub(super) fn event_still(
        &self,
        event_id: EventId,
        open: bool,
    ) -> Result<TransactWriteItem, StoreError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table.name)
            .set_key(Some(keys::event(event_id).item()))
            .condition_expression(if open {
                "#status = :published"
            } else {
                "#status <> :published"
            })
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":published", s(EventStatus::Published.as_str()))
            .build()
            .map_err(unavailable)?;
        Ok(TransactWriteItem::builder().condition_check(check).build())
    }

    /// The head of the event's waitlist, read strongly consistent from the base table.
    pub(super) async fn first_waitlisted(
        &self,
        event_id: EventId,
    ) -> Result<Option<Versioned>, StoreError> {
        let output = self
            .table
            .query()
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
        self.load(parsed(&entry, "registration_id")?)
            .await
            .map(Some)
    }

    /// The items that give the head of the waitlist (`waiting`) a seat as `promotion` says,
    /// with it as promoted: its replacement and its queue entry's removal, `waitlisted - 1`.
    pub(super) fn promotion_items(
        &self,
        waiting: &Versioned,
        promotion: &Promotion,
    ) -> Result<(Vec<TransactWriteItem>, Registration), StoreError> {
        let promoted = waiting.registration.promoted(promotion);
        let items = vec![
            self.replace(waiting, &promoted)?,
            self.delete(keys::waitlist_entry(&waiting.registration), true)?,
        ];
        Ok((items, promoted))
    }

    /// One attempt to release the seat (or queue place) of `before`, whose replacement by
    /// its released form is `transition`: the (event, email) guard is freed, and on an
    /// `open` event a seat passes to the head of the waitlist as `promotion` says —
    /// `confirmed` never drops then, so no newcomer can take it — or, with nobody waiting,
    /// is freed on condition that nobody is (so a concurrent waitlisting makes this round
    /// fail and promote next time); a closed event's seat is freed and nobody promoted.
    /// `outbox` gives the events, given the promoted registration. `Ok(None)` when a
    /// condition failed (the event's state included): someone changed something; look again.
    pub(super) async fn release_once(
        &self,
        before: &Registration,
        transition: TransactWriteItem,
        promotion: &Promotion,
        open: bool,
        outbox: impl FnOnce(Option<&Registration>) -> Vec<Envelope>,
    ) -> Result<Option<Released>, StoreError> {
        let event_id = before.event_id;
        let mut items = vec![
            transition,
            // The email may register again.
            self.delete(keys::registration_guard(event_id, &before.email), false)?,
        ];
        let leaves_queue = "SET waitlisted = waitlisted - :one";
        let frees_seat = "SET confirmed = confirmed - :one";
        let waiting = match (before.status, open) {
            (RegistrationStatus::Waitlisted, _) | (_, false) => None,
            _ => self.first_waitlisted(event_id).await?,
        };
        let promoted = if before.status == RegistrationStatus::Waitlisted {
            items.push(self.delete(keys::waitlist_entry(before), true)?);
            items.push(self.counter_update(event_id, leaves_queue, "waitlisted > :zero", open)?);
            None
        } else if let Some(waiting) = waiting {
            let (promotion_items, promoted) = self.promotion_items(&waiting, promotion)?;
            items.extend(promotion_items);
            items.push(self.counter_update(event_id, leaves_queue, "waitlisted > :zero", open)?);
            Some(promoted)
        } else if open {
            items.push(self.counter_update(
                event_id,
                frees_seat,
                "attribute_not_exists(waitlisted) OR waitlisted = :zero",
                open,
            )?);
            None
        } else {
            items.push(self.counter_update(event_id, frees_seat, "confirmed > :zero", open)?);
            None
        };
        let outbox = outbox(promoted.as_ref());
        items.extend(outbox_puts(&self.table, &outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(Some(Released { promoted, outbox })),
            Err(Cancelled::Conditions(_)) => Ok(None),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }
}
