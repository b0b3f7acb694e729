//! Sessions and account recovery: rotating refresh tokens, login throttling counters and
//! one-time password-reset tokens. Every secret arrives here already hashed
//! ([`crate::auth::refresh::secret_hash`]); no adapter ever sees a raw token.

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Committed, StoreError};
use crate::domain::{Envelope, UserId};

/// A refresh token as stored: its hash, its family (one login's chain of rotations) and
/// its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// SHA-256 of the token, lower-case hex ([`crate::auth::refresh::secret_hash`]).
    pub hash: String,
    /// The family: every token rotated from one login.
    pub family_id: Uuid,
    /// Whose session it is.
    pub user_id: UserId,
    /// After this it is refused.
    pub expires_at: OffsetDateTime,
}

/// What presenting a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// It was the family's live token: it is used now, and its successor is live.
    Rotated {
        /// Whose session it is.
        user_id: UserId,
        /// The family rotated.
        family_id: Uuid,
    },
    /// It had been rotated already — stolen and replayed, or raced by a concurrent
    /// refresh: its whole family is revoked now.
    Reused {
        /// The family now revoked.
        family_id: Uuid,
    },
    /// Unknown, expired, or of a revoked family.
    Refused,
}

/// Refresh-token families, login throttling counters and password-reset tokens.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Starts a new family (a login) with its first token; `now` is when.
    async fn start_refresh_family(
        &self,
        token: &RefreshToken,
        now: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Marks the token hashed `presented` used and stores its successor `next_hash` (same
    /// family and owner, expiring at `next_expires_at`) in one atomic step conditioned on
    /// the presented token being unused and its family live: of two concurrent rotations
    /// of one token exactly one wins, the other is [`Rotation::Reused`].
    async fn rotate_refresh_token(
        &self,
        presented: &str,
        next_hash: &str,
        next_expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<Rotation, StoreError>;
    /// Revokes the family of the token hashed `presented` (logout); false when no such
    /// token exists.
    async fn revoke_refresh_family(&self, presented: &str) -> Result<bool, StoreError>;

    /// Failed logins counted under `key` (see [`crate::auth::throttle`]) in the window
    /// starting at `window_start` (unix seconds).
    async fn login_failures(&self, key: &str, window_start: i64) -> Result<u32, StoreError>;
    /// Counts one more failure under `key` in the window starting at `window_start` and
    /// returns the new count; the counter expires at `window_end` (both unix seconds).
    async fn record_login_failure(
        &self,
        key: &str,
        window_start: i64,
        window_end: i64,
    ) -> Result<u32, StoreError>;

    /// Stores a password-reset token (hashed) for `user_id` with `outbox` (the
    /// PasswordResetRequested that mails it).
    async fn create_password_reset(
        &self,
        token_hash: &str,
        user_id: UserId,
        expires_at: OffsetDateTime,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError>;
    /// Consumes the reset token hashed `token_hash` once, sets the user's password hash and
    /// revokes every refresh-token family of the user, atomically. `None` (nothing changed)
    /// when the token is unknown, expired or used.
    async fn reset_password(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<UserId>, StoreError>;
}
