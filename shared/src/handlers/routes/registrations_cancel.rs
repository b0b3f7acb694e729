//! DELETE /registrations/{id} — cancels; a released seat goes to the first waitlisted
//! registration in the same transaction (confirmed on a free event, offered on a paid one;
//! see `RegistrationStore::cancel`). A paid registration is refunded within the event's
//! refund policy (an ADMIN may always refund).

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::RegistrationId;
use crate::handlers::common::seats::release_plan;
use crate::http::{json, path_id, ApiError, ApiResult};

/// Serves `DELETE /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path_id(&req, "id", "registration")?;
    let registration = caller.registration(ctx, id).await?;
    let event = ctx
        .events
        .event(registration.event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;

    let now = ctx.clock.now();
    let cancellation = ctx
        .registrations
        .cancel(
            registration.id,
            now,
            &release_plan(&event, now, caller.is_admin()),
        )
        .await?;
    ctx.publish(&cancellation.outbox).await;

    json(StatusCode::OK, &cancellation.cancelled)
}
