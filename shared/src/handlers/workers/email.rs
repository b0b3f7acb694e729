//! Email worker: tells attendees what happened — the ticket (on confirmation or promotion),
//! a waitlist place, a cancellation. Each domain event is mailed at most once however often
//! it is delivered: the send is claimed by event id in the store first, the claim released
//! if SES fails (so the retry sends), and completed once SES has accepted the mail.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use time::Duration;

use super::for_each_envelope;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, Event};
use crate::mail;
use crate::ports::{BoxError, Claim, Mail};
use crate::tickets::qr_png;

/// A send claimed longer ago than this died with its function (its timeout is 10 s); the
/// next delivery (the queue redelivers after 60 s) takes over and sends.
const SEND_LEASE: Duration = Duration::seconds(30);
/// Longer than any redelivery: the queue's retries end within minutes, a sweep within days.
const SENT_MEMORY: Duration = Duration::days(14);

pub async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
    for_each_envelope(batch, |envelope| send_once(ctx, envelope)).await
}

async fn send_once(ctx: &AppContext, envelope: Envelope) -> Result<(), BoxError> {
    let key = format!("email:{}", envelope.id);
    match ctx
        .store
        .claim(&key, "", ctx.clock.now(), SEND_LEASE, SENT_MEMORY)
        .await?
    {
        Claim::Acquired => {}
        Claim::Completed { .. } => {
            tracing::info!(event_id = %envelope.id, "already mailed; duplicate delivery ignored");
            return Ok(());
        }
        Claim::InFlight { .. } => {
            return Err("another delivery of this event is being mailed".into());
        }
    }
    let sent = match compose(ctx, &envelope.event).await {
        Ok(Some(mail)) => ctx.mailer.send(&mail).await.map_err(BoxError::from),
        Ok(None) => Ok(()),
        Err(error) => Err(error),
    };
    match sent {
        Ok(()) => Ok(ctx.store.complete(&key, "sent").await?),
        Err(error) => {
            ctx.store.release(&key).await?;
            Err(error)
        }
    }
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
        _ => return Ok(None),
    }))
}

async fn event_of(ctx: &AppContext, id: uuid::Uuid) -> Result<Event, BoxError> {
    Ok(ctx
        .store
        .event(id)
        .await?
        .ok_or_else(|| format!("event {id} does not exist"))?)
}
