//! CDN worker: when an event's public face changes, CloudFront forgets the cached copies
//! of the pages that show it. The envelope id is the invalidation's caller reference, so a
//! redelivered message names the same invalidation instead of starting another.

use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::for_each_envelope;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, Event};
use crate::ports::CdnError;

/// Invalidates the public paths of each event created, updated or cancelled in `batch`;
/// returns the messages that failed, for SQS to redeliver.
pub async fn handle(ctx: &AppContext, batch: SqsEvent) -> SqsBatchResponse {
    for_each_envelope(batch, |envelope| invalidate(ctx, envelope)).await
}

/// The cached paths that show `event`: its API resource, the listing (every query of it),
/// and its public page on the site.
pub fn public_paths(event: &Event) -> Vec<String> {
    vec![
        format!("/events/{}", event.id),
        "/events".to_owned(),
        "/events?*".to_owned(),
        format!("/e/{}", event.slug),
    ]
}

async fn invalidate(ctx: &AppContext, envelope: Envelope) -> Result<(), CdnError> {
    let event = match &envelope.event {
        DomainEvent::EventCreated { event }
        | DomainEvent::EventUpdated { event }
        | DomainEvent::EventCancelled { event } => event,
        _ => return Ok(()),
    };
    ctx.cdn
        .invalidate(&public_paths(event), &envelope.id.to_string())
        .await
}
