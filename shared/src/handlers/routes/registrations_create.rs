//! POST /events/{id}/registrations — an attendee takes a seat. The store's transaction
//! decides, atomically, whether a seat is left and whether the email is already in.

use http::StatusCode;
use lambda_http::Request;
use uuid::Uuid;

use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, NewRegistration};
use crate::http::{json, json_body, path_uuid, ApiResult};

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let event_id = path_uuid(&req, "id", "event")?;
    let request: NewRegistration = json_body(&req)?;

    let now = ctx.clock.now();
    let registration = request.confirmed(Uuid::now_v7(), event_id, now)?;
    let events = [Envelope::new(
        DomainEvent::RegistrationConfirmed {
            registration: registration.clone(),
        },
        now,
    )];
    ctx.store.register(&registration, &events).await?;
    ctx.publish(&events).await;

    json(StatusCode::CREATED, &registration)
}
