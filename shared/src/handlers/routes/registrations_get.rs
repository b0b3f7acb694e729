//! GET /registrations/{id} — for the attendee (manage token), the event's owner, or ADMIN.

use http::StatusCode;
use lambda_http::Request;

use super::access::registration_for_caller;
use crate::app::AppContext;
use crate::http::{json, ApiResult};

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let registration = registration_for_caller(ctx, &req).await?;
    json(StatusCode::OK, &registration)
}
