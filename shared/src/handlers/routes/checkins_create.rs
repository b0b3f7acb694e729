//! POST /checkins — door staff scan a ticket: the signature and event are verified, then
//! the store records the first scan atomically; every later scan is a 409 with its time.
//! A ticket of a cancelled (or unpublished) event is a 409 `event_closed`, of an event that
//! is over a 409 `event_ended`. An `Idempotency-Key` (the door app sends its scan's id)
//! makes a retry of a scan whose answer was lost replay the 200 instead of reading as a
//! second scan's 409.

use http::StatusCode;
use lambda_http::Request;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, EventId, RegistrationId, RegistrationStatus};
use crate::handlers::common::idempotency::idempotent;
use crate::http::{json, json_body, ApiError, ApiResult};
use crate::tickets::TicketError;

#[derive(Deserialize)]
struct CheckinRequest {
    /// The QR payload as scanned.
    ticket: String,
    /// The event the door is for, when the device knows it: a ticket for another event
    /// is then refused even though its signature is good.
    #[serde(default)]
    event_id: Option<EventId>,
}

#[derive(Serialize)]
struct CheckedIn {
    registration_id: RegistrationId,
    event_id: EventId,
    full_name: String,
    status: RegistrationStatus,
    #[serde(with = "time::serde::rfc3339::option")]
    checked_in_at: Option<OffsetDateTime>,
}

/// Serves `POST /checkins` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    // Counted where the scan is decided: a replayed answer is no scan.
    idempotent(ctx, &req, || async {
        let result = check_in(ctx, &req, caller).await;
        crate::telemetry::checkin(&result);
        result
    })
    .await
}

async fn check_in(ctx: &AppContext, req: &Request, caller: Caller) -> ApiResult {
    let request: CheckinRequest = json_body(req)?;

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
    let event = caller.event(ctx, claims.event_id).await?;
    let at = ctx.clock.now();
    // The door of an event that is over admits nobody; a cancelled one is the store's
    // condition (it can be cancelled while this request runs).
    event.refuse_ended(at)?;

    let outbox = [Envelope::new(
        DomainEvent::CheckedIn {
            registration_id: claims.registration_id,
            event_id: claims.event_id,
            at,
        },
        at,
    )];
    let checked_in = ctx
        .registrations
        .check_in(claims.registration_id, claims.event_id, at, &outbox)
        .await?;
    let registration = ctx.publish(checked_in).await;

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
