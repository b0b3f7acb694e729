//! Accounts: sign-up, lookup for login, and the ADMIN routes' listing and changes.

use async_trait::async_trait;

use super::{Committed, Page, StoreError};
use crate::domain::{Envelope, Role, User, UserId};

/// A change an ADMIN makes to an account; `None` leaves the field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserChange {
    /// The new role.
    pub role: Option<Role>,
    /// Activates (`true`) or deactivates (`false`) the account.
    pub active: Option<bool>,
}

/// User accounts, unique by normalized email.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates `user` with `outbox`, atomically. Fails with [`StoreError::EmailTaken`] when
    /// the normalized email is in use.
    async fn create_user(
        &self,
        user: &User,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError>;

    /// The account with this id.
    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError>;

    /// The account with this normalized email.
    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError>;

    /// Every account, ordered by (normalized, unique) email, `limit` at a time. Fails with
    /// [`StoreError::InvalidCursor`].
    async fn users(&self, limit: usize, cursor: Option<&str>) -> Result<Page<User>, StoreError>;

    /// Applies `change` atomically and returns the account as changed; `Ok(None)` when
    /// there is no such account.
    async fn update_user(&self, id: UserId, change: UserChange)
        -> Result<Option<User>, StoreError>;
}
