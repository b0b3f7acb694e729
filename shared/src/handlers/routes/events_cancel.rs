//! DELETE /events/{id} — an ADMIN cancels an event: status CANCELLED (registrations stop,
//! the listing leaves the public list) and EventCancelled, on which the email worker tells
//! every registrant, a page at a time.

use http::StatusCode;
use lambda_http::Request;

use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, EventId};
use crate::handlers::common::event_writes::save;
use crate::handlers::common::views::EventWithStats;
use crate::http::{json, path_id, ApiError, ApiResult};

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
    save(ctx, &event, envelope).await?;
    let stats = ctx.read_model.stats(event_id).await?;
    json(
        StatusCode::OK,
        &EventWithStats {
            event: &event,
            stats,
        },
    )
}
