//! PUT /events/{id} — the owner (or an ADMIN) replaces an event's fields. Every field is
//! validated (422 naming it); a capacity below the seats already taken is refused by the
//! store's own condition (422 `max_capacity`), a slug in use by 409 `slug_taken`.

use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, EventId, EventStatus, NewEvent};
use crate::handlers::common::event_writes::save;
use crate::http::{json_body, path_id, ApiResult};

/// Serves `PUT /events/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let event_id: EventId = path_id(&req, "id", "event")?;
    let current = caller.event(ctx, event_id).await?;
    let change: NewEvent = json_body(&req)?;
    let event = change.validate_update(&current)?;
    let domain_event = if event.status == EventStatus::Cancelled {
        DomainEvent::EventCancelled {
            event: event.clone(),
        }
    } else {
        DomainEvent::EventUpdated {
            event: event.clone(),
            previous_slug: Some(current.slug.clone()).filter(|slug| *slug != event.slug),
        }
    };
    save(ctx, &event, Envelope::new(domain_event, ctx.clock.now())).await
}
