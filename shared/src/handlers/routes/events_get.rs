//! GET /events/{id} — the event from the write side, its counters from the read model.
//! Drafts are visible to their owner and admins only.

use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{EventId, EventStatus};
use crate::handlers::common::views::EventWithStats;
use crate::http::{path, public_json, ApiError, ApiResult};

/// Serves `GET /events/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let event_id: EventId = path(&req)?;
    let principal = caller.principal();

    let event = ctx
        .events
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
