//! Payments worker: the provider's side of what happened to paid registrations.
//!
//! - WaitlistOffered: opens the offer's checkout and records it with WaitlistOfferOpened
//!   (the email worker mails the offer with its link);
//! - HoldExpired, and RegistrationCancelled of a held seat: closes its checkout, so it can
//!   no longer be paid;
//! - RefundRequested: refunds through the provider (its idempotency key is the request's
//!   registration and reason, so a redelivery makes no second refund) and records the
//!   refund once, with RegistrationRefunded;
//! - EventCancelled of a paid event: refunds every paid registration and closes the
//!   checkout of every held one (a payment that still arrives is refunded as late), a page
//!   per invocation (EventRefundsPending chains the pages), each once.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::once::each_registration;
use super::{event_of, for_each_envelope};
use crate::app::AppContext;
use crate::domain::RefundRecord;
use crate::domain::{
    DomainEvent, Envelope, EventId, RefundReason, Registration, RegistrationStatus,
};
use crate::ports::BoxError;
use crate::services::checkout::open_checkout;
use crate::services::ServiceError;

/// Acts on each domain event of `batch`; returns the messages that failed, for SQS to
/// redeliver.
pub async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
    for_each_envelope(batch, |envelope| act(ctx, envelope)).await
}

async fn act(ctx: &AppContext, envelope: Envelope) -> Result<(), BoxError> {
    match envelope.event {
        DomainEvent::WaitlistOffered { registration } => open_offer(ctx, &registration).await,
        DomainEvent::HoldExpired { registration } => close_checkout(ctx, &registration).await,
        DomainEvent::RegistrationCancelled {
            registration,
            previous: RegistrationStatus::PendingPayment,
        } => close_checkout(ctx, &registration).await,
        DomainEvent::RefundRequested {
            registration,
            amount_cents,
            reason,
            ..
        } => refund(ctx, &registration, amount_cents, reason).await,
        DomainEvent::EventCancelled { event } if event.is_paid() => {
            refund_all(ctx, event.id, None).await
        }
        DomainEvent::EventRefundsPending { event_id, cursor } => {
            refund_all(ctx, event_id, Some(&cursor)).await
        }
        _ => Ok(()),
    }
}

async fn open_offer(ctx: &AppContext, registration: &Registration) -> Result<(), BoxError> {
    let event = event_of(ctx, registration.event_id).await?;
    let opened = open_checkout(ctx, &event, registration, |opened| {
        vec![Envelope::new(
            DomainEvent::WaitlistOfferOpened {
                registration: opened.clone(),
            },
            ctx.clock.now(),
        )]
    })
    .await;
    match opened {
        Ok(_) => Ok(()),
        // The offer lapsed or was cancelled before its checkout opened: nothing to offer.
        Err(ServiceError::Refused(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

async fn close_checkout(ctx: &AppContext, registration: &Registration) -> Result<(), BoxError> {
    if let Some(checkout_id) = registration
        .hold
        .as_ref()
        .and_then(|hold| hold.checkout_id.as_deref())
    {
        ctx.payments.expire_checkout(checkout_id).await?;
    }
    Ok(())
}

async fn refund(
    ctx: &AppContext,
    registration: &Registration,
    amount_cents: u64,
    reason: RefundReason,
) -> Result<(), BoxError> {
    let Some(payment) = &registration.payment else {
        return Err(format!("refund of unpaid registration {}", registration.id).into());
    };
    let reason_key = serde_json::to_value(reason)?;
    let key = format!(
        "refund-{}-{}",
        registration.id,
        reason_key.as_str().unwrap_or("refund")
    );
    let refund_id = ctx
        .payments
        .refund(&payment.payment_id, amount_cents, &key)
        .await?;
    let outbox = [Envelope::new(
        DomainEvent::RegistrationRefunded {
            registration: registration.clone(),
            amount_cents,
            currency: payment.currency.clone(),
            refund_id: refund_id.clone(),
            reason,
        },
        ctx.clock.now(),
    )];
    let recorded = ctx
        .payment_records
        .record_refund(
            registration.id,
            &RefundRecord {
                refund_id,
                amount_cents,
                reason,
            },
            &outbox,
        )
        .await?;
    ctx.publish(recorded).await;
    Ok(())
}

/// A cancelled event's paid registrations refunded and its open checkouts closed, a page
/// per invocation, each once.
async fn refund_all(
    ctx: &AppContext,
    event_id: EventId,
    cursor: Option<&str>,
) -> Result<(), BoxError> {
    let next = |event_id, cursor| DomainEvent::EventRefundsPending { event_id, cursor };
    each_registration(
        ctx,
        "payments:event-refunds",
        event_id,
        cursor,
        next,
        |_, registration| async move {
            if registration.status == RegistrationStatus::PendingPayment {
                return close_checkout(ctx, &registration).await;
            }
            let amount_cents = registration.refundable_cents();
            if amount_cents > 0 {
                refund(
                    ctx,
                    &registration,
                    amount_cents,
                    RefundReason::EventCancelled,
                )
                .await?;
            }
            Ok(())
        },
    )
    .await
}
