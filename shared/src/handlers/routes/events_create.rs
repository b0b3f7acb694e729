//! POST /events — an ORGANIZER (or ADMIN) creates an event they own.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, EventId, EventStats, NewEvent};
use crate::handlers::common::views::EventWithStats;
use crate::http::{json, json_body, ApiResult};

/// Serves `POST /events` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let owner = caller.user()?;
    let new_event: NewEvent = json_body(&req)?;

    let now = ctx.clock.now();
    let event = new_event.validate(EventId::now_v7(), owner.user_id, now)?;
    let outbox = [Envelope::new(
        DomainEvent::EventCreated {
            event: event.clone(),
        },
        now,
    )];
    let created = ctx.events.create_event(&event, &outbox).await?;
    ctx.publish(created).await;

    json(
        StatusCode::CREATED,
        &EventWithStats {
            event: &event,
            stats: EventStats::default(),
        },
    )
}
