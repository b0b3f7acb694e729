//! GET /registrations/{id}/ticket — the QR PNG the tickets worker stored, for the attendee
//! (manage token), the event's owner, or ADMIN. 404 until the ticket is issued.

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::access::registration_for_caller;
use crate::app::AppContext;
use crate::handlers::workers::tickets::ticket_blob_key;
use crate::http::{ApiError, ApiResult};

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let registration = registration_for_caller(ctx, &req).await?;

    let png = ctx
        .blobs
        .get(&ticket_blob_key(&registration))
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::NotFound("ticket"))?;

    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "image/png")
        // A ticket never changes, but it is personal: browsers may keep it, proxies not.
        .header(http::header::CACHE_CONTROL, "private, max-age=86400")
        .body(Body::Binary(png))
        .map_err(ApiError::internal)
}
