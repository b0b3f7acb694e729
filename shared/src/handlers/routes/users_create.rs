//! POST /users — an ADMIN creates an account of any role (sign-up only makes ORGANIZERs).

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, Role, Signup, User, UserId};
use crate::handlers::common::views::UserView;
use crate::http::{json, json_body, ApiError, ApiResult};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    password: String,
    role: Role,
}

/// Serves `POST /users` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
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
        id: UserId::now_v7(),
        email: signup.email,
        password_hash,
        role: body.role,
        active: true,
        created_at: now,
    };
    let outbox = [Envelope::new(
        DomainEvent::UserSignedUp { user_id: user.id },
        now,
    )];
    let created = ctx.users.create_user(&user, &outbox).await?;
    ctx.publish(created).await;

    json(StatusCode::CREATED, &UserView::from(&user))
}
