//! GET /registrations/{id}/ticket — the QR PNG the tickets worker stored, for the attendee
//! (manage token), the event's owner, or ADMIN. 404 until the ticket is recorded as issued
//! (never, for a cancelled event), and once the registration holds no seat any more.

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::Caller;
use crate::app::AppContext;
use crate::domain::RegistrationId;
use crate::handlers::common::attendee_page::issued_ticket_png;
use crate::http::{path, ApiError, ApiResult};

/// Serves `GET /registrations/{id}/ticket` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path(&req)?;
    let registration = caller.registration(ctx, id).await?;
    let png = issued_ticket_png(ctx, &registration)
        .await?
        .ok_or(ApiError::NotFound("ticket"))?;

    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "image/png")
        // A ticket never changes, but it is personal: browsers may keep it, proxies not.
        .header(http::header::CACHE_CONTROL, "private, max-age=86400")
        .body(Body::Binary(png))
        .map_err(ApiError::internal)
}
