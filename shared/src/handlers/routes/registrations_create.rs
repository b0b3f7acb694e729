//! POST /events/{id}/registrations — an attendee takes a seat, or a place on the waitlist
//! when the event is full and has one. The store's transactions decide, atomically, whether
//! a seat is left, whether the waitlist is open and whether the email is already in.
//! Honours `Idempotency-Key`. The response carries the attendee's manage token.

use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;

use crate::app::AppContext;
use crate::domain::{EventId, NewRegistration, Registration, RegistrationId, RegistrationStatus};
use crate::handlers::common::idempotency::idempotent;
use crate::http::{json, json_body, path_id, ApiError, ApiResult};
use crate::ports::StoreError;

/// How often a waitlisting that found a freed seat goes back for it. Each retry means a
/// seat was released in the last few milliseconds; more than a handful means heavy churn.
const SEAT_RACES: usize = 5;

#[derive(Serialize)]
struct Created {
    #[serde(flatten)]
    registration: Registration,
    /// Lets the attendee view and cancel this registration without an account.
    manage_token: String,
}

/// Serves `POST /events/{id}/registrations` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    idempotent(ctx, &req, || register(ctx, &req)).await
}

async fn register(ctx: &AppContext, req: &Request) -> ApiResult {
    let event_id: EventId = path_id(req, "id", "event")?;
    let request: NewRegistration = json_body(req)?;

    let now = ctx.clock.now();
    let confirmed = request.confirmed(RegistrationId::now_v7(), event_id, now)?;
    let registration = seat_or_waitlist(ctx, confirmed).await?;

    let manage_token = ctx.attendee_keys.manage_token(registration.id);
    json(
        StatusCode::CREATED,
        &Created {
            registration,
            manage_token,
        },
    )
}

async fn seat_or_waitlist(
    ctx: &AppContext,
    confirmed: Registration,
) -> Result<Registration, ApiError> {
    let waitlisted = confirmed.waitlisted();
    for _ in 0..SEAT_RACES {
        match record(ctx, &confirmed).await {
            Err(StoreError::EventFull) => {}
            outcome => return outcome.map(|()| confirmed).map_err(Into::into),
        }
        match record(ctx, &waitlisted).await {
            Err(StoreError::SeatAvailable) => {}
            outcome => return outcome.map(|()| waitlisted).map_err(Into::into),
        }
    }
    Err(ApiError::Busy)
}

/// Writes the registration with its domain event in the outbox, then publishes it.
async fn record(ctx: &AppContext, registration: &Registration) -> Result<(), StoreError> {
    let outbox = [registration.made(ctx.clock.now())];
    match registration.status {
        RegistrationStatus::Waitlisted => ctx.registrations.waitlist(registration, &outbox).await?,
        _ => ctx.registrations.register(registration, &outbox).await?,
    }
    ctx.publish(&outbox).await;
    Ok(())
}
