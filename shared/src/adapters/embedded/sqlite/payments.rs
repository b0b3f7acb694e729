//! [`PaymentStore`] over SQLite: holds, payments and refunds, each the domain's decision
//! (`Registration::settle`, `hold_lapsed`, `with_refund`) taken and written inside one
//! `BEGIN IMMEDIATE` transaction, so nothing can change the row in between — of a webhook
//! and the expirer racing on one hold, whichever runs second sees the other's outcome.

use async_trait::async_trait;
use rusqlite::{params, TransactionBehavior};
use time::OffsetDateTime;

use super::seats::{event_is_open, registration_in, release, set_registration};
use super::{commit, from_json, unavailable, SqliteStore};
use crate::adapters::decision::{checkout_recorded, refunded, settlement, Decision};
use crate::domain::{
    expiry_events, Checkout, Envelope, Payment, PaymentOutcome, Promotion, RefundRecord,
    Registration, RegistrationId,
};
use crate::ports::{Cancellation, Committed, PaymentStore, StoreError};

impl SqliteStore {
    /// Reads registration `id` and whether its event is open, lets `decide` say what
    /// becomes of it, and writes that, in one `BEGIN IMMEDIATE` transaction.
    async fn decide<T: Send + 'static>(
        &self,
        id: RegistrationId,
        decide: impl FnOnce(&Registration, bool) -> Result<Decision<T>, StoreError> + Send + 'static,
    ) -> Result<Committed<T>, StoreError> {
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let registration = registration_in(&tx, "id = ?1", [id.to_string()])?
                .ok_or(StoreError::RegistrationNotFound)?;
            let open = event_is_open(&tx, registration.event_id)?;
            let (change, answer) = decide(&registration, open)?;
            let Some((after, outbox)) = change else {
                return Ok(Committed::new(answer, Vec::new()));
            };
            set_registration(&tx, &after)?;
            commit(tx, answer, outbox)
        })
        .await
    }
}

#[async_trait]
impl PaymentStore for SqliteStore {
    async fn record_checkout(
        &self,
        id: RegistrationId,
        checkout: &Checkout,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError> {
        let (checkout, outbox) = (checkout.clone(), outbox.to_vec());
        self.decide(id, move |registration, open| {
            checkout_recorded(registration, open, &checkout, &outbox)
        })
        .await
    }

    async fn record_payment(
        &self,
        id: RegistrationId,
        payment: &Payment,
        at: OffsetDateTime,
    ) -> Result<Committed<PaymentOutcome>, StoreError> {
        let payment = payment.clone();
        self.decide(id, move |registration, open| {
            Ok(settlement(registration, open, &payment, at))
        })
        .await
    }

    async fn due_holds(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Registration>, StoreError> {
        self.run(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT data FROM registrations
                     WHERE status = 'PENDING_PAYMENT' AND hold_expires_at <= ?1
                     ORDER BY hold_expires_at LIMIT ?2",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![now.unix_timestamp(), limit as i64], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(unavailable)?;
            rows.map(|json| from_json(&json.map_err(unavailable)?))
                .collect()
        })
        .await
    }

    async fn expire_hold(
        &self,
        id: RegistrationId,
        now: OffsetDateTime,
        promotion: &Promotion,
    ) -> Result<Option<Committed<Cancellation>>, StoreError> {
        let promotion = promotion.clone();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let Some(before) = registration_in(&tx, "id = ?1", [id.to_string()])?
                .filter(|registration| registration.hold_lapsed(now))
            else {
                // Paid, cancelled, or not lapsed: the seat is not this release's to give.
                return Ok(None);
            };
            let open = event_is_open(&tx, before.event_id)?;
            let released = before.cancelled(now);
            let promoted = release(&tx, &before, &released, &promotion, open)?;
            let outbox = expiry_events(&before, promoted.as_ref(), now);
            let released = Cancellation {
                cancelled: released,
                promoted,
            };
            commit(tx, released, outbox).map(Some)
        })
        .await
    }

    async fn record_refund(
        &self,
        id: RegistrationId,
        refund: &RefundRecord,
        outbox: &[Envelope],
    ) -> Result<Committed<bool>, StoreError> {
        let (refund, outbox) = (refund.clone(), outbox.to_vec());
        self.decide(id, move |registration, _| {
            refunded(registration, &refund, &outbox)
        })
        .await
    }
}
