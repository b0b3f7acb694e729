//! PUT /events/{id} — the owner (or an ADMIN) replaces an event's fields. Every field is
//! validated (422 naming it); a capacity below the seats already taken is refused by the
//! store's own condition (422 `max_capacity`), a slug in use by 409 `slug_taken`.

use http::StatusCode;
use lambda_http::Request;

use super::views::EventWithStats;
use crate::app::AppContext;
use crate::auth::Principal;
use crate::domain::{DomainEvent, Envelope, Event, EventStatus, FieldError, NewEvent};
use crate::http::{json, json_body, path_uuid, ApiError, ApiResult};
use crate::ports::UpdateEventError;

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let event_id = path_uuid(&req, "id", "event")?;
    let principal = Principal::required(&req, &ctx.tokens)?;
    let current = owned_event(ctx, principal, event_id).await?;
    let change: NewEvent = json_body(&req)?;
    let event = change.validate_update(&current)?;
    let now = ctx.clock.now();
    let domain_event = if event.status == EventStatus::Cancelled {
        DomainEvent::EventCancelled {
            event: event.clone(),
        }
    } else {
        DomainEvent::EventUpdated {
            event: event.clone(),
        }
    };
    save(ctx, &event, &current.slug, Envelope::new(domain_event, now)).await?;
    let stats = ctx.read_model.stats(event_id).await?;
    json(
        StatusCode::OK,
        &EventWithStats {
            event: &event,
            stats,
        },
    )
}

/// The event, if `principal` owns it or is an ADMIN: 404 unknown, 403 someone else's.
pub(super) async fn owned_event(
    ctx: &AppContext,
    principal: Principal,
    event_id: uuid::Uuid,
) -> Result<Event, ApiError> {
    let event = ctx
        .store
        .event(event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))?;
    if !principal.owns_or_admin(event.owner_id) {
        return Err(ApiError::Forbidden);
    }
    Ok(event)
}

/// Writes the update with its domain event and publishes it.
pub(super) async fn save(
    ctx: &AppContext,
    event: &Event,
    previous_slug: &str,
    envelope: Envelope,
) -> Result<(), ApiError> {
    let events = [envelope];
    match ctx.store.update_event(event, previous_slug, &events).await {
        Ok(()) => {}
        Err(UpdateEventError::CapacityBelowConfirmed { confirmed }) => {
            return Err(ApiError::Invalid(vec![FieldError {
                field: "max_capacity",
                message: format!("{confirmed} seats are taken; the capacity cannot be lower"),
            }]))
        }
        Err(UpdateEventError::Store(e)) => return Err(e.into()),
    }
    ctx.publish(&events).await;
    Ok(())
}
