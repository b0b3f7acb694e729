//! PUT /events/{id} — the owner (or an ADMIN) replaces an event's fields. Every field is
//! validated (422 naming it); a capacity below the seats already taken is refused by the
//! store's own condition (422 `max_capacity`), a slug in use by 409 `slug_taken`.

use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{EventId, NewEvent};
use crate::handlers::common::views::event_with_stats;
use crate::http::{json_body, path, ApiResult};
use crate::services::events;

/// Serves `PUT /events/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let event_id: EventId = path(&req)?;
    let current = caller.event(ctx, event_id).await?;
    let change: NewEvent = json_body(&req)?;

    let event = events::update(ctx, &current, change).await?;

    event_with_stats(ctx, &event).await
}
