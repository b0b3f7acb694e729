//! PATCH /users/{id} — an ADMIN changes an account's `role` and/or `active`. Access tokens
//! already issued keep their claims until they expire; requests re-read the account.

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;

use super::views::UserView;
use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::{FieldError, Role};
use crate::http::{json, json_body, path_uuid, ApiError, ApiResult};
use crate::ports::UserChange;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    role: Option<Role>,
    active: Option<bool>,
}

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let admin = Principal::required(&req, &ctx.tokens)?.require_role(&[Role::Admin])?;
    let id = path_uuid(&req, "id", "user")?;
    let patch: Patch = json_body(&req)?;
    if patch.role.is_none() && patch.active.is_none() {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "body",
            message: "set role, active or both".into(),
        }]));
    }

    // An ADMIN who demoted or deactivated themselves could leave nobody to undo it; another
    // ADMIN (or `create-admin`) has to.
    let demotes_self = id == admin.user_id
        && (patch.active == Some(false) || patch.role.is_some_and(|role| role != Role::Admin));
    if demotes_self {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "id",
            message: "an ADMIN cannot demote or deactivate their own account".into(),
        }]));
    }

    let user = ctx
        .store
        .update_user(
            id,
            UserChange {
                role: patch.role,
                active: patch.active,
            },
        )
        .await?
        .ok_or(ApiError::NotFound("user"))?;

    json(StatusCode::OK, &UserView::from(&user))
}
