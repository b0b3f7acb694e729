//! POST /auth/login — email and password for a short-lived access token and a refresh
//! token (a new family). Failed attempts are throttled per account and per source IP.

use http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use super::Caller;
use crate::app::AppContext;
use crate::auth::refresh::{new_secret, secret_hash, REFRESH_TOKEN_TTL};
use crate::auth::throttle::{login_windows, source_ip};
use crate::domain::validate::email_lookup_key;
use crate::handlers::common::session::token_pair;
use crate::handlers::common::views::Credentials;
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::ports::RefreshToken;

/// Serves `POST /auth/login` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let body: Credentials = json_body(&req)?;
    let email = email_lookup_key(&body.email);
    let now = ctx.clock.now();

    // Counted by email whether or not an account has it, so a 429 reveals nothing either.
    let windows = login_windows(&email, &source_ip(&req), now);
    for (window, limit) in &windows {
        if ctx
            .identity
            .login_failures(&window.key, window.start)
            .await?
            >= *limit
        {
            return Err(ApiError::TooManyAttempts {
                retry_after: window.retry_after(now),
            });
        }
    }

    let user = ctx.users.user_by_email(&email).await?;
    let stored_hash = user.as_ref().map(|u| u.password_hash.clone());
    // Unknown email, wrong password and deactivated account look the same to the caller:
    // an unknown email is verified against a decoy hash, so it also takes as long.
    let verified = ctx.passwords.verify(body.password, stored_hash).await;
    let Some(user) = user.filter(|u| verified && u.active) else {
        for (window, _) in &windows {
            ctx.identity
                .record_login_failure(&window.key, window.start, window.end)
                .await?;
        }
        return Err(ApiError::InvalidCredentials);
    };

    let refresh_token = new_secret();
    ctx.identity
        .start_refresh_family(
            &RefreshToken {
                hash: secret_hash(&refresh_token),
                family_id: Uuid::now_v7(),
                user_id: user.id,
                expires_at: now + REFRESH_TOKEN_TTL,
            },
            now,
        )
        .await?;
    json(StatusCode::OK, &token_pair(ctx, &user, refresh_token, now)?)
}
