//! Email worker: tells attendees what happened — the ticket (on confirmation or promotion),
//! a waitlist place, a cancellation. Each domain event is mailed at most once however often
//! it is delivered: the send is claimed by event id in the store first, the claim released
//! if SES fails (so the retry sends), and completed once SES has accepted the mail.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use time::Duration;

use super::for_each_envelope;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, Event, EventId};
use crate::mail;
use crate::ports::{BoxError, Claim, Mail};
use crate::tickets::qr_png;

/// A send claimed longer ago than this died with its function (its timeout is 10 s); the
/// next delivery (the queue redelivers after 60 s) takes over and sends.
const SEND_LEASE: Duration = Duration::seconds(30);
/// Longer than any redelivery: the queue's retries end within minutes, a sweep within days.
const SENT_MEMORY: Duration = Duration::days(14);

/// Mails what each domain event of `batch` warrants, once per event however often it is
/// delivered; returns the messages that failed, for SQS to redeliver.
pub async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
    for_each_envelope(batch, |envelope| async move {
        match &envelope.event {
            DomainEvent::EventCancelled { event } => notices::send_page(ctx, event.id, None).await,
            DomainEvent::EventCancellationNoticesPending { event_id, cursor } => {
                notices::send_page(ctx, *event_id, Some(cursor)).await
            }
            _ => send_once(ctx, envelope).await,
        }
    })
    .await
}

/// A cancelled event's notices, one page of registrations per invocation, so an event of
/// 10,000 registrants never runs a Lambda into its timeout: each page ends by publishing
/// EventCancellationNoticesPending for the next. Each page is claimed by (event, cursor),
/// so a redelivered or duplicated page neither re-mails nor forks the chain; each mail is
/// claimed by (event, registration), so a page retried after a partial failure mails only
/// whom it missed.
mod notices {
    use super::*;
    use crate::domain::EventId;
    use crate::domain::RegistrationStatus;

    /// Registrations read (and mailed at most) per invocation.
    pub const PAGE_SIZE: usize = 50;

    pub async fn send_page(
        ctx: &AppContext,
        event_id: EventId,
        cursor: Option<&str>,
    ) -> Result<(), BoxError> {
        let page_key = format!(
            "email:event-cancelled:{event_id}:{}",
            cursor.unwrap_or("start")
        );
        match claim(ctx, &page_key).await? {
            Some(()) => {}
            None => return Ok(()),
        }
        match mail_page(ctx, event_id, cursor).await {
            Ok(()) => Ok(ctx.idempotency.complete(&page_key, "sent").await?),
            Err(error) => {
                ctx.idempotency.release(&page_key).await?;
                Err(error)
            }
        }
    }

    /// `Some` when acquired, `None` when done before; in flight elsewhere is an error,
    /// so the message is retried after the lease.
    async fn claim(ctx: &AppContext, key: &str) -> Result<Option<()>, BoxError> {
        match ctx
            .idempotency
            .claim(key, "", ctx.clock.now(), SEND_LEASE, SENT_MEMORY)
            .await?
        {
            Claim::Acquired => Ok(Some(())),
            Claim::Completed { .. } => Ok(None),
            Claim::InFlight { .. } => {
                Err(format!("{key} is being mailed by another delivery").into())
            }
        }
    }

    async fn mail_page(
        ctx: &AppContext,
        event_id: EventId,
        cursor: Option<&str>,
    ) -> Result<(), BoxError> {
        let event = event_of(ctx, event_id).await?;
        let page = ctx
            .registrations
            .registrations(event_id, None, PAGE_SIZE, cursor)
            .await?;
        for registration in &page.items {
            // Those who cancelled before were told then.
            if registration.status == RegistrationStatus::Cancelled {
                continue;
            }
            let key = format!("email:event-cancelled:{event_id}:{}", registration.id);
            if claim(ctx, &key).await?.is_none() {
                continue;
            }
            match ctx
                .mailer
                .send(&mail::event_cancelled(&event, registration))
                .await
            {
                Ok(()) => ctx.idempotency.complete(&key, "sent").await?,
                Err(error) => {
                    ctx.idempotency.release(&key).await?;
                    return Err(error.into());
                }
            }
        }
        if let Some(next) = page.next_cursor {
            let follow_up = Envelope::new(
                DomainEvent::EventCancellationNoticesPending {
                    event_id,
                    cursor: next,
                },
                ctx.clock.now(),
            );
            ctx.bus.publish(&[follow_up]).await?;
        }
        Ok(())
    }
}

async fn send_once(ctx: &AppContext, envelope: Envelope) -> Result<(), BoxError> {
    let key = format!("email:{}", envelope.id);
    match ctx
        .idempotency
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
        Ok(()) => Ok(ctx.idempotency.complete(&key, "sent").await?),
        Err(error) => {
            ctx.idempotency.release(&key).await?;
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

async fn event_of(ctx: &AppContext, id: EventId) -> Result<Event, BoxError> {
    Ok(ctx
        .events
        .event(id)
        .await?
        .ok_or_else(|| format!("event {id} does not exist"))?)
}
