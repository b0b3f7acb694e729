//! GET /events/{id} — the event from the write side, its counters from the read model.
//! Drafts are visible to their owner and admins only.

use lambda_http::Request;

use super::views::EventWithStats;
use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::EventStatus;
use crate::http::{path_uuid, public_json, ApiError, ApiResult};

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let event_id = path_uuid(&req, "id", "event")?;
    let principal = Principal::from_request(&req, &ctx.tokens)?;

    let event = ctx
        .store
        .event(event_id)
        .await?
        .filter(|e| {
            e.status != EventStatus::Draft || principal.is_some_and(|p| p.owns_or_admin(e.owner_id))
        })
        .ok_or(ApiError::NotFound("event"))?;
    let stats = ctx.read_model.stats(event_id).await?;

    public_json(
        &req,
        &EventWithStats {
            event: &event,
            stats,
        },
    )
}
