//! POST /users — an ADMIN creates an account of any role (sign-up only makes ORGANIZERs).

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;
use uuid::Uuid;

use super::views::UserView;
use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::{DomainEvent, Envelope, Role, Signup, User};
use crate::http::{json, json_body, ApiError, ApiResult};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    password: String,
    role: Role,
}

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    Principal::required(&req, &ctx.tokens)?.require_role(&[Role::Admin])?;
    let body: NewUser = json_body(&req)?;
    // The same email and password rules as self-service sign-up.
    let signup = Signup::parse(&body.email, body.password)?;

    let password_hash = ctx
        .passwords
        .hash(signup.password)
        .await
        .map_err(ApiError::internal)?;
    let now = ctx.clock.now();
    let user = User {
        id: Uuid::now_v7(),
        email: signup.email,
        password_hash,
        role: body.role,
        active: true,
        created_at: now,
    };
    let events = [Envelope::new(
        DomainEvent::UserSignedUp { user_id: user.id },
        now,
    )];
    ctx.store.create_user(&user, &events).await?;
    ctx.publish(&events).await;

    json(StatusCode::CREATED, &UserView::from(&user))
}
