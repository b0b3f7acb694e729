use http::header::AUTHORIZATION;
use uuid::Uuid;

use super::token::TokenService;
use crate::app::AppContext;
use crate::domain::Role;
use crate::http::ApiError;

/// The authenticated caller of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
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

    pub fn required<B>(req: &http::Request<B>, tokens: &TokenService) -> Result<Self, ApiError> {
        Self::from_request(req, tokens)?.ok_or(ApiError::Unauthenticated)
    }

    /// Refuses (401) a request whose bearer token is invalid, or names an account that is
    /// deactivated or gone: a valid signature outlives a deactivation by up to the access
    /// token's lifetime, the stored account does not. Every route entrance runs this once
    /// before the handler (`Route::handle` for the dev server, `run_route` for a Lambda),
    /// so handlers keep the cheap synchronous [`Principal::required`].
    pub async fn refuse_inactive<B: Sync>(
        req: &http::Request<B>,
        ctx: &AppContext,
    ) -> Result<(), ApiError> {
        let Some(principal) = Self::from_request(req, &ctx.tokens)? else {
            return Ok(());
        };
        match ctx.store.user(principal.user_id).await? {
            Some(user) if user.active => Ok(()),
            _ => Err(ApiError::Unauthenticated),
        }
    }

    pub fn require_role(self, allowed: &[Role]) -> Result<Self, ApiError> {
        if allowed.contains(&self.role) {
            Ok(self)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Admins see and manage everything; everyone else only what they own.
    pub fn owns_or_admin(self, owner_id: Uuid) -> bool {
        self.role == Role::Admin || self.user_id == owner_id
    }
}
