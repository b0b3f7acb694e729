//! POST /events/{id}/registrations — an attendee takes a seat, or a place on the waitlist
//! when the event is full and has one; on a paid event the seat is held (PENDING_PAYMENT)
//! while they pay at the `checkout_url` until `hold_expires_at`. Honours
//! `Idempotency-Key`. The response carries the attendee's manage token.

use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use time::OffsetDateTime;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{EventId, NewRegistration, Registration};
use crate::handlers::common::idempotency::idempotent;
use crate::http::{json, json_body, path, ApiResult};
use crate::services::registrations;

#[derive(Serialize)]
struct Created<'a> {
    #[serde(flatten)]
    registration: &'a Registration,
    /// Lets the attendee view and cancel this registration without an account.
    manage_token: String,
    /// Where a held seat is paid for (PENDING_PAYMENT only).
    #[serde(skip_serializing_if = "Option::is_none")]
    checkout_url: Option<&'a str>,
    /// When a held seat lapses unpaid (PENDING_PAYMENT only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    hold_expires_at: Option<OffsetDateTime>,
}

/// Serves `POST /events/{id}/registrations` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    idempotent(ctx, &req, || register(ctx, &req)).await
}

async fn register(ctx: &AppContext, req: &Request) -> ApiResult {
    let event_id: EventId = path(req)?;
    let request: NewRegistration = json_body(req)?;

    let registration = registrations::register(ctx, event_id, request).await?;

    let hold = registration.hold.as_ref();
    json(
        StatusCode::CREATED,
        &Created {
            registration: &registration,
            manage_token: ctx.attendee_keys.manage_token(registration.id),
            checkout_url: hold.and_then(|h| h.checkout_url.as_deref()),
            hold_expires_at: hold.map(|h| h.expires_at),
        },
    )
}
