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
/// and its public page and calendar file on the site — under `previous_slug` too when a
/// rename moved them, so the old address stops serving the old page.
pub fn public_paths(event: &Event, previous_slug: Option<&str>) -> Vec<String> {
    let mut paths = vec![
        format!("/events/{}", event.id),
        "/events".to_owned(),
        "/events?*".to_owned(),
    ];
    for slug in std::iter::once(event.slug.as_str()).chain(previous_slug) {
        paths.push(format!("/e/{slug}"));
        paths.push(format!("/e/{slug}.ics"));
    }
    paths
}

async fn invalidate(ctx: &AppContext, envelope: Envelope) -> Result<(), CdnError> {
    let (event, previous_slug) = match &envelope.event {
        DomainEvent::EventCreated { event } | DomainEvent::EventCancelled { event } => {
            (event, None)
        }
        DomainEvent::EventUpdated {
            event,
            previous_slug,
        } => (event, previous_slug.as_deref()),
        _ => return Ok(()),
    };
    ctx.cdn
        .invalidate(
            &public_paths(event, previous_slug),
            &envelope.id.to_string(),
        )
        .await
}
