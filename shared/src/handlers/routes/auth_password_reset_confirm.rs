//! POST /auth/password-reset/confirm — a reset token from the email and a new password:
//! sets it, uses the token up, and ends every session (refresh-token family) of the user.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use super::Caller;
use crate::app::AppContext;
use crate::auth::refresh::presented_hash;
use crate::domain::user::validate_password;
use crate::http::{json_body, ApiError, ApiResult};

#[derive(Deserialize)]
struct ConfirmRequest {
    token: String,
    password: String,
}

/// Serves `POST /auth/password-reset/confirm` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let body: ConfirmRequest = json_body(&req)?;
    validate_password(&body.password)?;
    let token_hash = presented_hash(&body.token).ok_or(ApiError::InvalidResetToken)?;

    let password_hash = ctx
        .passwords
        .hash(body.password)
        .await
        .map_err(ApiError::internal)?;
    let user_id = ctx
        .identity
        .reset_password(&token_hash, &password_hash, ctx.clock.now())
        .await?
        .ok_or(ApiError::InvalidResetToken)?;
    tracing::info!(%user_id, "password reset; every session of the user revoked");

    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(ApiError::internal)
}
