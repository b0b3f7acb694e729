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
use crate::domain::{
    expiry_events, Checkout, Envelope, Payment, PaymentOutcome, Promotion, RefundRecord,
    Registration, RegistrationId, RegistrationStatus,
};
use crate::ports::{Cancellation, PaymentStore, StoreError};

/// Optimistic rounds before a busy registration is a 503.
const RACES: u32 = 16;

impl DynamoStore {
    /// Puts `after` for `before` with `outbox`, on condition of its version: `Ok(false)`
    /// when the registration changed since `before` was read.
    async fn replace_with(
        &self,
        before: &Versioned,
        after: &Registration,
        outbox: &[Envelope],
    ) -> Result<bool, StoreError> {
        let mut items = vec![self.replace(before, after)?];
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
    ) -> Result<Registration, StoreError> {
        for _ in 0..RACES {
            let before = self.load(id).await?;
            let after = before.registration.with_checkout(checkout)?;
            if self.replace_with(&before, &after, outbox).await? {
                return Ok(after);
            }
        }
        Err(StoreError::Contended)
    }

    async fn record_payment(
        &self,
        id: RegistrationId,
        payment: &Payment,
        at: OffsetDateTime,
    ) -> Result<(PaymentOutcome, Vec<Envelope>), StoreError> {
        for _ in 0..RACES {
            let before = self.load(id).await?;
            let (outcome, outbox) = before.registration.settle(payment, at);
            let Some(after) = outcome.registration() else {
                return Ok((outcome, outbox));
            };
            if self.replace_with(&before, after, &outbox).await? {
                return Ok((outcome, outbox));
            }
        }
        Err(StoreError::Contended)
    }

    async fn due_holds(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Registration>, StoreError> {
        let output = self
            .table
            .client
            .query()
            .table_name(&self.table.name)
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
    ) -> Result<Option<Cancellation>, StoreError> {
        for _ in 0..RACES {
            let before = self.load(id).await?;
            let registration = &before.registration;
            let lapsed = registration.hold_lapsed(now);
            if !lapsed {
                // Paid, cancelled, or not due: the seat is not this release's to give.
                return Ok(None);
            }
            let released = registration.with_status(RegistrationStatus::Cancelled);
            let transition = self.replace(&before, &released)?;
            if let Some(done) = self
                .release_once(registration, transition, promotion, |promoted| {
                    expiry_events(registration, promoted, now)
                })
                .await?
            {
                return Ok(Some(Cancellation {
                    cancelled: released,
                    promoted: done.promoted,
                    outbox: done.outbox,
                }));
            }
        }
        Err(StoreError::Contended)
    }

    async fn record_refund(
        &self,
        id: RegistrationId,
        refund: &RefundRecord,
        outbox: &[Envelope],
    ) -> Result<bool, StoreError> {
        for _ in 0..RACES {
            let before = self.load(id).await?;
            let Some(after) = before
                .registration
                .with_refund(refund)
                .map_err(|mismatch| StoreError::Corrupt(format!("{id}: {mismatch}")))?
            else {
                return Ok(false);
            };
            if self.replace_with(&before, &after, outbox).await? {
                return Ok(true);
            }
        }
        Err(StoreError::Contended)
    }
}
