//! POST /auth/password-reset/confirm — a reset token from the email and a new password:
//! sets it, uses the token up, and ends every session (refresh-token family) of the user.

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use crate::app::AppContext;
use crate::auth::refresh::presented_hash;
use crate::domain::user::{MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS};
use crate::domain::FieldError;
use crate::http::{json_body, ApiError, ApiResult};

#[derive(Deserialize)]
struct ConfirmRequest {
    token: String,
    password: String,
}

/// The same rules as at signup.
fn check_password(password: &str) -> Result<(), ApiError> {
    let message = if password.chars().count() < MIN_PASSWORD_CHARS {
        format!("must be at least {MIN_PASSWORD_CHARS} characters")
    } else if password.len() > MAX_PASSWORD_BYTES {
        format!("must be at most {MAX_PASSWORD_BYTES} bytes")
    } else {
        return Ok(());
    };
    Err(ApiError::Invalid(vec![FieldError {
        field: "password",
        message,
    }]))
}

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let body: ConfirmRequest = json_body(&req)?;
    check_password(&body.password)?;
    let token_hash = presented_hash(&body.token).ok_or(ApiError::InvalidResetToken)?;

    let password_hash = ctx
        .passwords
        .hash(body.password)
        .await
        .map_err(ApiError::internal)?;
    let user_id = ctx
        .store
        .reset_password(&token_hash, &password_hash, ctx.clock.now())
        .await?
        .ok_or(ApiError::InvalidResetToken)?;
    tracing::info!(%user_id, "password reset; every session of the user revoked");

    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .map_err(ApiError::internal)
}
