//! The authenticated caller of a request, from its bearer token.

use http::header::AUTHORIZATION;

use super::token::TokenService;
use crate::domain::{Role, UserId};
use crate::http::ApiError;

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    /// The account (the token's `sub`).
    pub user_id: UserId,
    /// Its role when the token was issued (the entrance re-reads the account's state).
    pub role: Role,
}

impl Principal {
    /// The caller from `Authorization: Bearer <token>`; `None` when the header is absent.
    /// A header that is present but invalid is an error, never silently anonymous.
    pub fn from_request<B>(
        req: &http::Request<B>,
        tokens: &TokenService,
    ) -> Result<Option<Self>, ApiError> {
        let Some(header) = req.headers().get(AUTHORIZATION) else {
            return Ok(None);
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthenticated)?;
        let claims = tokens
            .verify(token.trim())
            .map_err(|_| ApiError::Unauthenticated)?;
        Ok(Some(Self {
            user_id: claims.sub,
            role: claims.role,
        }))
    }

    /// This principal if its role is one of `allowed`; 403 otherwise.
    pub fn require_role(self, allowed: &[Role]) -> Result<Self, ApiError> {
        if allowed.contains(&self.role) {
            Ok(self)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Admins see and manage everything; everyone else only what they own.
    pub fn owns_or_admin(self, owner_id: UserId) -> bool {
        self.role == Role::Admin || self.user_id == owner_id
    }
}
