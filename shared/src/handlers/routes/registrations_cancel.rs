//! DELETE /registrations/{id} — cancels; a released seat goes to the first waitlisted
//! registration in the same transaction (see `RegistrationStore::cancel`).

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::RegistrationId;
use crate::http::{json, path_id, ApiResult};

/// Serves `DELETE /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path_id(&req, "id", "registration")?;
    let registration = caller.registration(ctx, id).await?;

    let cancellation = ctx
        .registrations
        .cancel(registration.id, ctx.clock.now())
        .await?;
    ctx.publish(&cancellation.outbox).await;

    json(StatusCode::OK, &cancellation.cancelled)
}
