//! What login, refresh and logout share: the refresh token request and the token pair
//! answered (OAuth 2.0 names, RFC 6749 §5.1).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::app::AppContext;
use crate::domain::User;
use crate::http::ApiError;

/// The body of `/auth/refresh` and `/auth/logout`.
#[derive(Deserialize)]
pub struct RefreshRequest {
    /// The refresh token as issued.
    pub refresh_token: String,
}

/// `{"access_token", "refresh_token", "token_type": "Bearer", "expires_in"}`.
#[derive(Debug, Serialize)]
pub struct TokenPair {
    /// A JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Presented once to `/auth/refresh` for the next pair.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
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
