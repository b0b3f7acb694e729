//! [`PaymentStore`] on the write table: holds, payments and refunds, each one replacement
//! of the registration item (see `seats.rs`) with its outbox entries, in one transaction on
//! condition the item's `version` is still the one the decision was read from. Of a webhook
//! and the expirer racing on one hold both may decide on the same version; the database
//! lets exactly one write, and the other re-reads and finds the hold paid or lapsed.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::keys::{self, GSI2, HOLDS_PARTITION};
use super::outbox::outbox_puts;
use super::seats::Versioned;
use super::table::{entity, s, unavailable, Cancelled};
use super::DynamoStore;
use crate::adapters::decision::{checkout_recorded, refunded, settlement, Decision};
use crate::domain::{
    expiry_events, Checkout, Envelope, Payment, PaymentOutcome, Promotion, RefundRecord,
    Registration, RegistrationId,
};
use crate::ports::{Cancellation, Committed, PaymentStore, StoreError};

/// Optimistic rounds before a busy registration is a 503.
const RACES: u32 = 16;

impl DynamoStore {
    /// Reads registration `id` and whether its event is open, lets `decide` say what
    /// becomes of it, and writes that on condition of the version and the event's state
    /// read — deciding again on fresh reads when another write came between
    /// ([`StoreError::Contended`] after [`RACES`] rounds).
    async fn decide<T>(
        &self,
        id: RegistrationId,
        decide: impl Fn(&Registration, bool) -> Result<Decision<T>, StoreError>,
    ) -> Result<Committed<T>, StoreError> {
        for _ in 0..RACES {
            let before = self.load(id).await?;
            let open = self.event_is_open(before.registration.event_id).await?;
            let (change, answer) = decide(&before.registration, open)?;
            let Some((after, outbox)) = change else {
                return Ok(Committed::new(answer, Vec::new()));
            };
            if self.replace_with(&before, &after, open, &outbox).await? {
                return Ok(Committed::new(answer, outbox));
            }
        }
        Err(StoreError::Contended)
    }

    /// Puts `after` for `before` with `outbox`, on condition of its version and of its
    /// event still being as `open` as read: `Ok(false)` when either changed.
    async fn replace_with(
        &self,
        before: &Versioned,
        after: &Registration,
        open: bool,
        outbox: &[Envelope],
    ) -> Result<bool, StoreError> {
        let mut items = vec![
            self.replace(before, after)?,
            self.event_still(after.event_id, open)?,
        ];
        items.extend(outbox_puts(&self.table, outbox)?);
        match self.table.transact(items).await {
            Ok(()) => Ok(true),
            Err(Cancelled::Conditions(_)) => Ok(false),
            Err(Cancelled::Other(e)) => Err(e),
        }
    }
}

#[async_trait]
impl PaymentStore for DynamoStore {
    async fn record_checkout(
        &self,
        id: RegistrationId,
        checkout: &Checkout,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError> {
        self.decide(id, |registration, open| {
            checkout_recorded(registration, open, checkout, outbox)
        })
        .await
    }

    async fn record_payment(
        &self,
        id: RegistrationId,
        payment: &Payment,
        at: OffsetDateTime,
    ) -> Result<Committed<PaymentOutcome>, StoreError> {
        self.decide(id, |registration, open| {
            Ok(settlement(registration, open, payment, at))
        })
        .await
    }

    async fn due_holds(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Registration>, StoreError> {
        let output = self
            .table
            .query()
            .index_name(GSI2.name)
            .key_condition_expression("gsi2pk = :holds AND gsi2sk <= :now")
            .expression_attribute_values(":holds", s(HOLDS_PARTITION))
            .expression_attribute_values(":now", s(keys::up_to(now)))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(unavailable)?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(entity)
            .collect()
    }

    async fn expire_hold(
        &self,
        id: RegistrationId,
        now: OffsetDateTime,
        promotion: &Promotion,
    ) -> Result<Option<Committed<Cancellation>>, StoreError> {
        for _ in 0..RACES {
            let before = self.load(id).await?;
            let registration = &before.registration;
            let lapsed = registration.hold_lapsed(now);
            if !lapsed {
                // Paid, cancelled, or not due: the seat is not this release's to give.
                return Ok(None);
            }
            let open = self.event_is_open(registration.event_id).await?;
            let released = registration.cancelled(now);
            let transition = self.replace(&before, &released)?;
            if let Some(done) = self
                .release_once(registration, transition, promotion, open, |promoted| {
                    expiry_events(registration, promoted, now)
                })
                .await?
            {
                let released = Cancellation {
                    cancelled: released,
                    promoted: done.promoted,
                };
                return Ok(Some(Committed::new(released, done.outbox)));
            }
        }
        Err(StoreError::Contended)
    }

    async fn record_refund(
        &self,
        id: RegistrationId,
        refund: &RefundRecord,
        outbox: &[Envelope],
    ) -> Result<Committed<bool>, StoreError> {
        self.decide(id, |registration, _| refunded(registration, refund, outbox))
            .await
    }
}
