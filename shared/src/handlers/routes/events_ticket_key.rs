//! GET /events/{id}/ticket-key — the event's Ed25519 public key, so a door device can
//! verify tickets offline. Public: a public key proves nothing but signatures.

use lambda_http::Request;
use serde::Serialize;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{EventId, EventStatus};
use crate::http::{path, public_json, ApiError, ApiResult};

#[derive(Serialize)]
struct TicketKey {
    event_id: EventId,
    algorithm: &'static str,
    /// The ticket format the key verifies (the payload's prefix).
    format: &'static str,
    /// Unpadded base64url of the 32-byte key.
    public_key: String,
}

/// Serves `GET /events/{id}/ticket-key` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let event_id: EventId = path(&req)?;

    ctx.events
        .event(event_id)
        .await?
        .filter(|event| event.status != EventStatus::Draft)
        .ok_or(ApiError::NotFound("event"))?;

    public_json(
        &req,
        &TicketKey {
            event_id,
            algorithm: "Ed25519",
            format: "EVR1",
            public_key: ctx.attendee_keys.ticket_public_key(event_id).to_base64url(),
        },
    )
}
