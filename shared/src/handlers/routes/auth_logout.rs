//! POST /auth/logout — revokes the refresh token's family: that session's every token.

use http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::Caller;
use crate::app::AppContext;
use crate::auth::refresh::presented_hash;
use crate::handlers::common::session::RefreshRequest;
use crate::http::{json_body, ApiError, ApiResult};

/// Serves `POST /auth/logout` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let body: RefreshRequest = json_body(&req)?;
    // Logging out is idempotent: an unknown or already revoked token is logged out too.
    if let Some(presented) = presented_hash(&body.refresh_token) {
        ctx.identity.revoke_refresh_family(&presented).await?;
    }
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(ApiError::internal)
}
