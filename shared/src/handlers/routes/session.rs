//! What login and refresh both answer: an access token and a refresh token.

use serde::Serialize;
use time::OffsetDateTime;

use crate::app::AppContext;
use crate::domain::User;
use crate::http::ApiError;

#[derive(Debug, Serialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// An access token for `user` as stored now (its current role) with `refresh_token`.
pub fn token_pair(
    ctx: &AppContext,
    user: &User,
    refresh_token: String,
    now: OffsetDateTime,
) -> Result<TokenPair, ApiError> {
    let access = ctx
        .tokens
        .issue(user.id, user.role, now)
        .map_err(ApiError::internal)?;
    Ok(TokenPair {
        access_token: access.access_token,
        refresh_token,
        token_type: access.token_type,
        expires_in: access.expires_in,
    })
}
