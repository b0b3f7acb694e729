//! POST /auth/refresh — a refresh token for a new access token and its successor. The
//! presented token is used up; presenting it again (a replay) revokes its whole family.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::auth::refresh::{new_secret, presented_hash, secret_hash, REFRESH_TOKEN_TTL};
use crate::handlers::common::session::{token_pair, RefreshRequest};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::ports::Rotation;

/// Serves `POST /auth/refresh` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let body: RefreshRequest = json_body(&req)?;
    let presented = presented_hash(&body.refresh_token).ok_or(ApiError::InvalidRefreshToken)?;
    let now = ctx.clock.now();

    let next = new_secret();
    let rotation = ctx
        .identity
        .rotate_refresh_token(
            &presented,
            &secret_hash(&next),
            now + REFRESH_TOKEN_TTL,
            now,
        )
        .await?;
    let user_id = match rotation {
        Rotation::Rotated { user_id, .. } => user_id,
        Rotation::Reused { family_id } => {
            tracing::warn!(%family_id, "a used refresh token was presented again; family revoked");
            return Err(ApiError::InvalidRefreshToken);
        }
        Rotation::Refused => return Err(ApiError::InvalidRefreshToken),
    };

    // The account decides, not the old token: a deactivation ends the session here, and the
    // new access token carries the role as it is now.
    let Some(user) = ctx.users.user(user_id).await?.filter(|u| u.active) else {
        ctx.identity
            .revoke_refresh_family(&secret_hash(&next))
            .await?;
        return Err(ApiError::InvalidRefreshToken);
    };
    json(StatusCode::OK, &token_pair(ctx, &user, next, now)?)
}
