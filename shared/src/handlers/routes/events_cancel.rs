//! DELETE /events/{id} — an ADMIN cancels an event: status CANCELLED (registrations stop,
//! the listing leaves the public list) and EventCancelled, on which the email worker tells
//! every registrant, a page at a time.

use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::EventId;
use crate::handlers::common::views::event_with_stats;
use crate::http::{path, ApiError, ApiResult};
use crate::services::events;

/// Serves `DELETE /events/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let event_id: EventId = path(&req)?;
    let current = ctx
        .events
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;

    let event = events::cancel(ctx, &current).await?;

    event_with_stats(ctx, &event).await
}
