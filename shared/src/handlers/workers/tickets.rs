//! Tickets worker: for each confirmed seat (new or promoted from the waitlist) signs the
//! ticket, stores its QR PNG, and records it once with a TicketIssued event for the email
//! worker. Re-delivery is harmless: the payload is deterministic, the PNG is overwritten
//! with identical bytes, and the store records a registration's ticket only once.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::for_each_envelope;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope};
use crate::ports::BoxError;
use crate::tickets::{qr_png, ticket_blob_key};

/// Issues the ticket of each seat confirmed in `batch`; returns the messages that failed,
/// for SQS to redeliver.
pub async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
    for_each_envelope(batch, |envelope| issue(ctx, envelope)).await
}

async fn issue(ctx: &AppContext, envelope: Envelope) -> Result<(), BoxError> {
    let (registration, promoted) = match envelope.event {
        DomainEvent::RegistrationConfirmed { registration } => (registration, false),
        DomainEvent::RegistrationPromoted { registration } => (registration, true),
        _ => return Ok(()),
    };
    let ticket = ctx
        .attendee_keys
        .issue_ticket(registration.event_id, registration.id);
    let blob_key = ticket_blob_key(&registration);
    ctx.blobs
        .put(&blob_key, "image/png", qr_png(&ticket)?)
        .await?;

    let issued = [Envelope::new(
        DomainEvent::TicketIssued {
            registration: registration.clone(),
            ticket: ticket.clone(),
            blob_key,
            promoted,
        },
        ctx.clock.now(),
    )];
    let recorded = ctx
        .registrations
        .record_ticket(&registration, &ticket, &issued)
        .await?;
    if !ctx.publish(recorded).await {
        tracing::info!(registration_id = %registration.id, "ticket already issued, or the seat is gone");
    }
    Ok(())
}
