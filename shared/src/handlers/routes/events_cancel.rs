//! DELETE /events/{id} — an ADMIN cancels an event: status CANCELLED (registrations stop,
//! the listing leaves the public list) and EventCancelled, on which the email worker tells
//! every registrant, a page at a time.

use lambda_http::Request;

use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, EventId};
use crate::handlers::common::event_writes::save;
use crate::http::{path_id, ApiError, ApiResult};

/// Serves `DELETE /events/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let event_id: EventId = path_id(&req, "id", "event")?;
    let current = ctx
        .events
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    let event = current.cancelled().map_err(ApiError::Refused)?;
    let envelope = Envelope::new(
        DomainEvent::EventCancelled {
            event: event.clone(),
        },
        ctx.clock.now(),
    );
    save(ctx, &event, envelope).await
}
