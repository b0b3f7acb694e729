//! GET /me — the caller's own account.

use http::StatusCode;
use lambda_http::Request;
use serde_json::json;

use super::Caller;
use crate::app::AppContext;
use crate::http::{json, ApiError, ApiResult};

/// Serves `GET /me` (answers: the module docs).
pub async fn handle(ctx: &AppContext, _req: Request, caller: Caller) -> ApiResult {
    let principal = caller.user()?;

    let user = ctx
        .users
        .user(principal.user_id)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::Unauthenticated)?;

    json(
        StatusCode::OK,
        &json!({
            "id": user.id,
            "email": user.email,
            "role": user.role,
            "active": user.active,
            "created_at": user.created_at.format(&time::format_description::well_known::Rfc3339).map_err(ApiError::internal)?,
        }),
    )
}
