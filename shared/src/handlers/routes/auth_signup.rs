//! POST /auth/signup — anyone may create an ORGANIZER account.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, Signup, UserId};
use crate::handlers::common::views::{Credentials, UserView};
use crate::http::{json, json_body, ApiError, ApiResult};

/// Serves `POST /auth/signup` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let body: Credentials = json_body(&req)?;
    let signup = Signup::parse(&body.email, body.password)?;

    let password_hash = ctx
        .passwords
        .hash(signup.password.clone())
        .await
        .map_err(ApiError::internal)?;
    let now = ctx.clock.now();
    let user = signup.into_user(UserId::now_v7(), password_hash, now);
    let outbox = [Envelope::new(
        DomainEvent::UserSignedUp { user_id: user.id },
        now,
    )];
    let created = ctx.users.create_user(&user, &outbox).await?;
    ctx.publish(created).await;

    json(StatusCode::CREATED, &UserView::from(&user))
}
