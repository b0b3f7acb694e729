//! PATCH /users/{id} — an ADMIN changes an account's `role` and/or `active`. Access tokens
//! already issued keep their claims until they expire; requests re-read the account.

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{FieldError, Role, UserId};
use crate::handlers::common::views::UserView;
use crate::http::{json, json_body, path, present, ApiError, ApiResult};
use crate::ports::UserChange;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Patch {
    #[serde(default, deserialize_with = "present")]
    role: Option<Role>,
    #[serde(default, deserialize_with = "present")]
    active: Option<bool>,
}

/// Serves `PATCH /users/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let admin = caller.user()?;
    let id: UserId = path(&req)?;
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
        .users
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
