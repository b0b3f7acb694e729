//! Who may act on a registration: the attendee holding its manage token (from the
//! confirmation email), the event's owner, or an ADMIN. Shared by every
//! `/registrations/{id}` route.

use lambda_http::Request;

use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::Registration;
use crate::http::{header, path_uuid, query_param, ApiError};

/// Where a manage token may come: a header for apps, `?token=` for the email's link.
pub const MANAGE_TOKEN_HEADER: &str = "x-manage-token";

/// The registration `{id}` of the path, if the caller may see and cancel it.
pub async fn registration_for_caller(
    ctx: &AppContext,
    req: &Request,
) -> Result<Registration, ApiError> {
    let id = path_uuid(req, "id", "registration")?;
    let manage_token = match header(req, MANAGE_TOKEN_HEADER) {
        Some(token) => Some(token.to_owned()),
        None => query_param::<String>(req, "token")?,
    };
    let principal = Principal::from_request(req, &ctx.tokens)?;
    if principal.is_none() && manage_token.is_none() {
        return Err(ApiError::Unauthenticated);
    }

    let registration = ctx
        .store
        .registration(id)
        .await?
        .ok_or(ApiError::NotFound("registration"))?;
    if manage_token.is_some_and(|token| ctx.attendee_keys.verify_manage_token(id, &token)) {
        return Ok(registration);
    }
    if let Some(principal) = principal {
        let owner = ctx
            .store
            .event(registration.event_id)
            .await?
            .map(|event| event.owner_id);
        if owner.is_some_and(|owner| principal.owns_or_admin(owner)) {
            return Ok(registration);
        }
    }
    Err(ApiError::Forbidden)
}
