//! [`PaymentStore`] over SQLite: holds, payments and refunds, each one `BEGIN IMMEDIATE`
//! transaction whose conditional statements decide as DynamoDB's conditions do — a
//! payment confirms only a PENDING_PAYMENT row whose `hold_expires_at` is after now, a
//! hold lapses only one at or before now.

use async_trait::async_trait;
use rusqlite::{params, TransactionBehavior};
use time::OffsetDateTime;

use super::seats::{registration_in, release, set_registration};
use super::{from_json, insert_outbox, unavailable, SqliteStore};
use crate::domain::{
    expiry_events, Checkout, DomainEvent, Envelope, Payment, Promotion, RefundReason, Refusal,
    Registration, RegistrationId, RegistrationStatus,
};
use crate::ports::{Cancellation, PaymentOutcome, PaymentStore, RefundRecord, StoreError};

fn payment_received(
    registration: &Registration,
    payment: &Payment,
    at: OffsetDateTime,
) -> Envelope {
    Envelope::new(
        DomainEvent::PaymentReceived {
            registration_id: registration.id,
            event_id: registration.event_id,
            amount_cents: payment.amount_cents,
            currency: payment.currency.clone(),
            payment_id: payment.payment_id.clone(),
        },
        at,
    )
}

#[async_trait]
impl PaymentStore for SqliteStore {
    async fn record_checkout(
        &self,
        id: RegistrationId,
        checkout: &Checkout,
        outbox: &[Envelope],
    ) -> Result<Registration, StoreError> {
        let (checkout, outbox) = (checkout.clone(), outbox.to_vec());
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let registration = registration_in(&tx, "id = ?1", [id.to_string()])?
                .ok_or(StoreError::RegistrationNotFound)?;
            let Some(mut hold) = registration
                .hold
                .clone()
                .filter(|_| registration.status == RegistrationStatus::PendingPayment)
            else {
                return Err(Refusal::NotConfirmed.into());
            };
            hold.checkout_id = Some(checkout.id);
            hold.checkout_url = Some(checkout.url);
            let after = Registration {
                hold: Some(hold),
                ..registration
            };
            set_registration(&tx, &after)?;
            insert_outbox(&tx, &outbox)?;
            tx.commit().map_err(unavailable)?;
            Ok(after)
        })
        .await
    }

    async fn record_payment(
        &self,
        id: RegistrationId,
        payment: &Payment,
        at: OffsetDateTime,
    ) -> Result<(PaymentOutcome, Vec<Envelope>), StoreError> {
        let payment = payment.clone();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let registration = registration_in(&tx, "id = ?1", [id.to_string()])?
                .ok_or(StoreError::RegistrationNotFound)?;
            if registration.payment.is_some() {
                return Ok((PaymentOutcome::AlreadyRecorded, Vec::new()));
            }
            // The condition, as the statement's own: still held, and not lapsed.
            let live = tx
                .query_row(
                    "SELECT count(*) FROM registrations
                     WHERE id = ?1 AND status = 'PENDING_PAYMENT' AND hold_expires_at > ?2",
                    params![id.to_string(), at.unix_timestamp()],
                    |row| row.get::<_, i64>(0),
                )
                .map_err(unavailable)?
                == 1;
            let (outcome, after, outbox) = if live {
                let paid = registration.paid(payment.clone());
                let outbox = vec![
                    Envelope::new(
                        DomainEvent::RegistrationConfirmed {
                            registration: paid.clone(),
                        },
                        at,
                    ),
                    payment_received(&paid, &payment, at),
                ];
                (PaymentOutcome::Confirmed(paid.clone()), paid, outbox)
            } else {
                // No seat to confirm any more: keep the money on record and give it back.
                let late = Registration {
                    payment: Some(payment.clone()),
                    ..registration
                };
                let mut outbox = vec![payment_received(&late, &payment, at)];
                outbox.extend(late.refund_request(RefundReason::LatePayment, at));
                (PaymentOutcome::Late(late.clone()), late, outbox)
            };
            set_registration(&tx, &after)?;
            insert_outbox(&tx, &outbox)?;
            tx.commit().map_err(unavailable)?;
            Ok((outcome, outbox))
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
    ) -> Result<Option<Cancellation>, StoreError> {
        let promotion = promotion.clone();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let Some(before) = registration_in(
                &tx,
                "id = ?1 AND status = 'PENDING_PAYMENT' AND hold_expires_at <= ?2",
                params![id.to_string(), now.unix_timestamp()],
            )?
            else {
                // Paid, cancelled, or not lapsed: the seat is not this release's to give.
                return Ok(None);
            };
            let released = before.with_status(RegistrationStatus::Cancelled);
            let promoted = release(&tx, &before, &released, &promotion)?;
            let outbox = expiry_events(&before, promoted.as_ref(), now);
            insert_outbox(&tx, &outbox)?;
            tx.commit().map_err(unavailable)?;
            Ok(Some(Cancellation {
                cancelled: released,
                promoted,
                outbox,
            }))
        })
        .await
    }

    async fn record_refund(
        &self,
        id: RegistrationId,
        refund: &RefundRecord,
        outbox: &[Envelope],
    ) -> Result<bool, StoreError> {
        let (refund, outbox) = (refund.clone(), outbox.to_vec());
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let registration = registration_in(&tx, "id = ?1", [id.to_string()])?
                .ok_or(StoreError::RegistrationNotFound)?;
            let Some(mut payment) = registration.payment.clone() else {
                return Err(StoreError::Corrupt(format!(
                    "refund of unpaid registration {id}"
                )));
            };
            if payment.refund_ids.contains(&refund.refund_id) {
                return Ok(false);
            }
            payment.refunded_cents = payment
                .refunded_cents
                .checked_add(refund.amount_cents)
                .filter(|total| *total <= payment.amount_cents)
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("refunds of {id} would exceed its payment"))
                })?;
            payment.refund_ids.push(refund.refund_id);
            let after = Registration {
                payment: Some(payment),
                ..registration
            };
            set_registration(&tx, &after)?;
            insert_outbox(&tx, &outbox)?;
            tx.commit().map_err(unavailable)?;
            Ok(true)
        })
        .await
    }
}
