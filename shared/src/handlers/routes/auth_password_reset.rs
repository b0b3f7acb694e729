//! POST /auth/password-reset — mails a one-time reset token when the email has an active
//! account. Always 202 with the same body for an address, so the answer says nothing
//! about accounts; 422 for what is no address at all.

use http::StatusCode;
use lambda_http::Request;
use serde::Deserialize;
use serde_json::json;

use super::Caller;
use crate::app::AppContext;
use crate::auth::refresh::{new_secret, secret_hash, RESET_TOKEN_TTL};
use crate::domain::validate::email_field;
use crate::domain::{DomainEvent, Envelope};
use crate::http::{json, json_body, ApiResult};

#[derive(Deserialize)]
struct ResetRequest {
    email: String,
}

/// Serves `POST /auth/password-reset` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let body: ResetRequest = json_body(&req)?;
    // A non-address is refused like everywhere else; that says nothing about accounts.
    let email = email_field(&body.email)?;

    if let Some(user) = ctx.users.user_by_email(&email).await?.filter(|u| u.active) {
        let now = ctx.clock.now();
        let token = new_secret();
        let expires_at = now + RESET_TOKEN_TTL;
        let outbox = [Envelope::new(
            DomainEvent::PasswordResetRequested {
                user_id: user.id,
                email: user.email.clone(),
                token: token.clone(),
                expires_at,
            },
            now,
        )];
        let stored = ctx
            .identity
            .create_password_reset(&secret_hash(&token), user.id, expires_at, &outbox)
            .await?;
        ctx.publish(stored).await;
    }

    json(
        StatusCode::ACCEPTED,
        &json!({ "message": "if an account has this email, a reset link is on its way" }),
    )
}
