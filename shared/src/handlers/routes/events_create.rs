//! POST /events — an ORGANIZER (or ADMIN) creates an event they own.

use http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use super::views::EventWithStats;
use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::{DomainEvent, Envelope, EventStats, NewEvent, Role};
use crate::http::{json, json_body, ApiResult};

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let principal =
        Principal::required(&req, &ctx.tokens)?.require_role(&[Role::Organizer, Role::Admin])?;
    let new_event: NewEvent = json_body(&req)?;

    let now = ctx.clock.now();
    let event = new_event.validate(Uuid::now_v7(), principal.user_id, now)?;
    let events = [Envelope::new(
        DomainEvent::EventCreated {
            event: event.clone(),
        },
        now,
    )];
    ctx.store.create_event(&event, &events).await?;
    ctx.publish(&events).await;

    json(
        StatusCode::CREATED,
        &EventWithStats {
            event: &event,
            stats: EventStats::default(),
        },
    )
}
