//! Email worker: tells attendees what happened — the ticket (on confirmation or promotion),
//! a waitlist place, a cancellation. Each domain event is mailed at most once however often
//! it is delivered: the send is claimed by event id in the store first, the claim released
//! if SES fails (so the retry sends), and completed once SES has accepted the mail.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::once::{each_registration, once};
use super::{event_of, for_each_envelope};
use crate::app::AppContext;
use crate::domain::payment::format_money;
use crate::domain::{DomainEvent, Envelope, EventId, RegistrationStatus};
use crate::mail;
use crate::ports::{BoxError, Mail};
use crate::tickets::qr_png;

/// Mails what each domain event of `batch` warrants, once per event however often it is
/// delivered; returns the messages that failed, for SQS to redeliver.
pub async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
    for_each_envelope(batch, |envelope| async move {
        match &envelope.event {
            DomainEvent::EventCancelled { event } => notices(ctx, event.id, None).await,
            DomainEvent::EventCancellationNoticesPending { event_id, cursor } => {
                notices(ctx, *event_id, Some(cursor)).await
            }
            _ => send_once(ctx, envelope).await,
        }
    })
    .await
}

/// A cancelled event's notices, a page of registrations per invocation, each mailed once
/// (see [`each_registration`]); those who cancelled before were told then.
async fn notices(
    ctx: &AppContext,
    event_id: EventId,
    cursor: Option<&str>,
) -> Result<(), BoxError> {
    let event = event_of(ctx, event_id).await?;
    let next = |event_id, cursor| DomainEvent::EventCancellationNoticesPending { event_id, cursor };
    each_registration(
        ctx,
        "email:event-cancelled",
        event_id,
        cursor,
        next,
        |key, registration| {
            let event = &event;
            async move {
                if registration.status != RegistrationStatus::Cancelled {
                    ctx.mailer
                        .send_keyed(&key, &mail::event_cancelled(event, &registration))
                        .await?;
                }
                Ok(())
            }
        },
    )
    .await
}

async fn send_once(ctx: &AppContext, envelope: Envelope) -> Result<(), BoxError> {
    let key = format!("email:{}", envelope.id);
    let sent = once(ctx, &key, || async {
        if let Some(mail) = compose(ctx, &envelope.event).await? {
            ctx.mailer.send_keyed(&key, &mail).await?;
        }
        Ok(())
    })
    .await?;
    if !sent {
        tracing::info!(event_id = %envelope.id, "already mailed; duplicate delivery ignored");
    }
    Ok(())
}

/// The mail for `event`, if it warrants one.
async fn compose(ctx: &AppContext, event: &DomainEvent) -> Result<Option<Mail>, BoxError> {
    Ok(Some(match event {
        DomainEvent::TicketIssued {
            registration,
            ticket,
            promoted,
            ..
        } => {
            let event = event_of(ctx, registration.event_id).await?;
            let manage_url = ctx.manage_url(registration.id);
            let png = qr_png(ticket)?;
            if *promoted {
                mail::promoted(&event, registration, &manage_url, png)
            } else {
                mail::confirmation(&event, registration, &manage_url, png)
            }
        }
        DomainEvent::RegistrationWaitlisted { registration } => {
            let event = event_of(ctx, registration.event_id).await?;
            mail::waitlisted(&event, registration, &ctx.manage_url(registration.id))
        }
        DomainEvent::RegistrationCancelled { registration, .. } => {
            let event = event_of(ctx, registration.event_id).await?;
            mail::cancelled(&event, registration)
        }
        DomainEvent::WaitlistOfferOpened { registration } => {
            let event = event_of(ctx, registration.event_id).await?;
            let Some((url, expires_at)) = registration
                .hold
                .as_ref()
                .and_then(|hold| Some((hold.checkout_url.as_deref()?, hold.expires_at)))
            else {
                return Err(format!("offer {} has no checkout", registration.id).into());
            };
            mail::offer(
                &event,
                registration,
                url,
                expires_at,
                &ctx.manage_url(registration.id),
            )
        }
        DomainEvent::HoldExpired { registration } => {
            let event = event_of(ctx, registration.event_id).await?;
            mail::hold_expired(&event, registration)
        }
        DomainEvent::RegistrationRefunded {
            registration,
            amount_cents,
            currency,
            reason,
            ..
        } => {
            let event = event_of(ctx, registration.event_id).await?;
            mail::refunded(
                &event,
                registration,
                &format_money(*amount_cents, currency),
                *reason,
            )
        }
        DomainEvent::PasswordResetRequested {
            email,
            token,
            expires_at,
            ..
        } => {
            let url = format!(
                "{}/auth/password-reset/confirm?token={token}",
                ctx.public_url.trim_end_matches('/')
            );
            mail::password_reset(email, token, &url, *expires_at)
        }
        _ => return Ok(None),
    }))
}
