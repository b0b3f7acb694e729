//! Who may call a route, enforced in one place. The route table declares each route's
//! [`Access`]; the entrance ([`authorize`], run by `Route::handle` in the dev server and by
//! `run_route` in every Lambda) checks it before the handler runs and hands the handler a
//! [`Caller`]. Access that depends on the resource (the event's owner, the registration's
//! manage token) is checked by [`Caller::event`] and [`Caller::registration`], which load
//! the resource and apply the route's rule, so no handler checks a role by hand.

use lambda_http::Request;

use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::{Event, EventId, Registration, RegistrationId, Role};
use crate::http::{header, query_param, ApiError};

/// Where a manage token may come: a header for apps, `?token=` for the email's link.
pub const MANAGE_TOKEN_HEADER: &str = "x-manage-token";

/// Who may call a route: the one statement of it, in the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// A signed-in user with one of these roles.
    Roles(&'static [Role]),
    /// The event's owner (an ORGANIZER) or an ADMIN.
    EventOwner,
    /// STAFF, the event's owner, or an ADMIN.
    EventStaff,
    /// The attendee with the registration's manage token, the event's owner, or an ADMIN.
    Attendee,
}

/// The caller of a route as the entrance admitted it under the route's [`Access`].
#[derive(Debug, Clone)]
pub struct Caller {
    access: Access,
    principal: Option<Principal>,
    manage_token: Option<String>,
}

/// Admits or refuses a request under `access`: 401 for a bearer token that is invalid or
/// names an account that is deactivated or gone (a valid signature outlives a deactivation
/// by up to the access token's lifetime, the stored account does not), 401 for no
/// credentials where some are needed, 403 for a role the route does not allow.
pub async fn authorize(
    access: Access,
    ctx: &AppContext,
    req: &Request,
) -> Result<Caller, ApiError> {
    let principal = Principal::from_request(req, &ctx.tokens)?;
    if let Some(principal) = principal {
        match ctx.users.user(principal.user_id).await? {
            Some(user) if user.active => {}
            _ => return Err(ApiError::Unauthenticated),
        }
    }
    let manage_token = match access {
        Access::Attendee => match header(req, MANAGE_TOKEN_HEADER) {
            Some(token) => Some(token.to_owned()),
            None => query_param::<String>(req, "token")?,
        },
        _ => None,
    };
    match access {
        Access::Public => {}
        Access::SignedIn | Access::EventOwner | Access::EventStaff => {
            principal.ok_or(ApiError::Unauthenticated)?;
        }
        Access::Roles(roles) => {
            principal
                .ok_or(ApiError::Unauthenticated)?
                .require_role(roles)?;
        }
        Access::Attendee => {
            if principal.is_none() && manage_token.is_none() {
                return Err(ApiError::Unauthenticated);
            }
        }
    }
    Ok(Caller {
        access,
        principal,
        manage_token,
    })
}

impl Caller {
    /// The signed-in user, if any.
    pub fn principal(&self) -> Option<Principal> {
        self.principal
    }

    /// Whether the caller is a signed-in ADMIN (who may, say, refund outside the policy).
    pub fn is_admin(&self) -> bool {
        self.principal.is_some_and(|p| p.role == Role::Admin)
    }

    /// The signed-in user of a route whose access requires one (the entrance made sure);
    /// 401 on a route that does not.
    pub fn user(&self) -> Result<Principal, ApiError> {
        self.principal.ok_or(ApiError::Unauthenticated)
    }

    /// The event `id` if this route's access lets the caller act on it: 404 when it does
    /// not exist, 403 when the caller is not its owner (or STAFF, where the route admits
    /// them) or an ADMIN.
    pub async fn event(&self, ctx: &AppContext, id: EventId) -> Result<Event, ApiError> {
        let event = ctx
            .events
            .event(id)
            .await?
            .ok_or(ApiError::NotFound("event"))?;
        let principal = self.user()?;
        let allowed = match self.access {
            Access::EventStaff => {
                principal.role == Role::Staff || principal.owns_or_admin(event.owner_id)
            }
            _ => principal.owns_or_admin(event.owner_id),
        };
        if allowed {
            Ok(event)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The registration `id` if the caller holds its manage token, owns its event or is an
    /// ADMIN: 404 when it does not exist, 403 otherwise.
    pub async fn registration(
        &self,
        ctx: &AppContext,
        id: RegistrationId,
    ) -> Result<Registration, ApiError> {
        let registration = ctx
            .registrations
            .registration(id)
            .await?
            .ok_or(ApiError::NotFound("registration"))?;
        if self
            .manage_token
            .as_deref()
            .is_some_and(|token| ctx.attendee_keys.verify_manage_token(id, token))
        {
            return Ok(registration);
        }
        if let Some(principal) = self.principal {
            let owner = ctx
                .events
                .event(registration.event_id)
                .await?
                .map(|event| event.owner_id);
            if owner.is_some_and(|owner| principal.owns_or_admin(owner)) {
                return Ok(registration);
            }
        }
        Err(ApiError::Forbidden)
    }
}
