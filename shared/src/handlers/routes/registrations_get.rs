//! GET /registrations/{id} — for the attendee (manage token), the event's owner, or ADMIN.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::RegistrationId;
use crate::http::{json, path_id, ApiResult};

/// Serves `GET /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path_id(&req, "id", "registration")?;
    let registration = caller.registration(ctx, id).await?;
    json(StatusCode::OK, &registration)
}
