//! POST /checkins — door staff scan a ticket: the signature and event are verified, then
//! the store records the first scan atomically; every later scan is a 409 with its time.

use http::StatusCode;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::{DomainEvent, Envelope, RegistrationStatus, Role};
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::tickets::TicketError;

#[derive(Deserialize)]
struct CheckinRequest {
    /// The QR payload as scanned.
    ticket: String,
    /// The event the door is for, when the device knows it: a ticket for another event
    /// is then refused even though its signature is good.
    #[serde(default)]
    event_id: Option<Uuid>,
}

#[derive(Serialize)]
struct CheckedIn {
    registration_id: Uuid,
    event_id: Uuid,
    full_name: String,
    status: RegistrationStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    checked_in_at: Option<OffsetDateTime>,
}

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let principal = Principal::required(&req, &ctx.tokens)?;
    let request: CheckinRequest = json_body(&req)?;

    let claims = ctx
        .attendee_keys
        .verify_ticket(request.ticket.trim())
        .map_err(|error| match error {
            TicketError::Forged => ApiError::ForgedTicket,
            _ => ApiError::MalformedTicket,
        })?;
    if request.event_id.is_some_and(|door| door != claims.event_id) {
        return Err(ApiError::WrongEvent);
    }
    let event = ctx
        .store
        .event(claims.event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    if !(principal.role == Role::Staff || principal.owns_or_admin(event.owner_id)) {
        return Err(ApiError::Forbidden);
    }

    let at = ctx.clock.now();
    let events = [Envelope::new(
        DomainEvent::CheckedIn {
            registration_id: claims.registration_id,
            event_id: claims.event_id,
            at,
        },
        at,
    )];
    let registration = ctx
        .store
        .check_in(claims.registration_id, claims.event_id, at, &events)
        .await?;
    ctx.publish(&events).await;

    json(
        StatusCode::OK,
        &CheckedIn {
            registration_id: registration.id,
            event_id: registration.event_id,
            full_name: registration.full_name,
            status: registration.status,
            checked_in_at: registration.checked_in_at,
        },
    )
}
