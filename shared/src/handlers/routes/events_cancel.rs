//! DELETE /events/{id} — an ADMIN cancels an event: status CANCELLED (registrations stop,
//! the listing leaves the public list) and EventCancelled, on which the email worker tells
//! every registrant, a page at a time.

use http::StatusCode;
use lambda_http::Request;

use super::events_update::save;
use super::views::EventWithStats;
use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::{DomainEvent, Envelope, Event, EventStatus, Role};
use crate::http::{json, path_uuid, ApiError, ApiResult};
use crate::ports::StoreError;

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let event_id = path_uuid(&req, "id", "event")?;
    Principal::required(&req, &ctx.tokens)?.require_role(&[Role::Admin])?;
    let current = ctx
        .store
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    if current.status == EventStatus::Cancelled {
        return Err(ApiError::Conflict(StoreError::AlreadyCancelled));
    }
    let event = Event {
        status: EventStatus::Cancelled,
        ..current
    };
    let envelope = Envelope::new(
        DomainEvent::EventCancelled {
            event: event.clone(),
        },
        ctx.clock.now(),
    );
    save(ctx, &event, &event.slug, envelope).await?;
    let stats = ctx.read_model.stats(event_id).await?;
    json(
        StatusCode::OK,
        &EventWithStats {
            event: &event,
            stats,
        },
    )
}
