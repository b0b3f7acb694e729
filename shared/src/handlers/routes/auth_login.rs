//! POST /auth/login — email and password for a short-lived access token.

use http::StatusCode;
use lambda_http::Request;

use super::views::Credentials;
use crate::app::AppContext;
use crate::domain::validate::normalize_email;
use crate::http::{json, json_body, ApiError, ApiResult};

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let body: Credentials = json_body(&req)?;

    let user = ctx
        .store
        .user_by_email(&normalize_email(&body.email))
        .await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    // Unknown email, wrong password and deactivated account look the same to the caller.
    let verified = ctx.passwords.verify(body.password, stored_hash).await;
    let user = user
        .filter(|u| verified && u.active)
        .ok_or(ApiError::InvalidCredentials)?;

    let token = ctx
        .tokens
        .issue(user.id, user.role, ctx.clock.now())
        .map_err(ApiError::internal)?;
    json(StatusCode::OK, &token)
}
