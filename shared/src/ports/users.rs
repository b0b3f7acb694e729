//! Account administration: what the ADMIN routes need beyond sign-up and login.

use async_trait::async_trait;
use uuid::Uuid;

use super::{Page, StoreError};
use crate::domain::{Role, User};

/// A change an ADMIN makes to an account; `None` leaves the field as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UserChange {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Every account, ordered by (normalized, unique) email, `limit` at a time.
    async fn users(&self, limit: usize, cursor: Option<&str>) -> Result<Page<User>, StoreError>;
    /// Applies `change` atomically and returns the account as changed; `Ok(None)` when
    /// there is no such account.
    async fn update_user(&self, id: Uuid, change: UserChange) -> Result<Option<User>, StoreError>;
}
