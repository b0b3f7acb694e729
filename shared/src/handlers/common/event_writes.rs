//! Writing an organizer's change to an event: shared by `PUT /events/{id}` and
//! `DELETE /events/{id}`.

use http::StatusCode;

use super::seats::fill_from_waitlist;
use super::views::EventWithStats;
use crate::app::AppContext;
use crate::domain::{Envelope, Event, EventStatus, FieldError};
use crate::http::{json, ApiError, ApiResult};
use crate::ports::UpdateEventError;

/// Stores `event` with `envelope` in the outbox, publishes it, gives any seat the change
/// freed (a capacity raise) to the head of the waitlist — confirmed on a free event,
/// offered on a paid one, never a newcomer ahead of them — and answers 200 with the event
/// and its counters. A capacity below the seats taken is a 422 naming `max_capacity`; a
/// slug in use a 409.
pub async fn save(ctx: &AppContext, event: &Event, envelope: Envelope) -> ApiResult {
    let outbox = [envelope];
    match ctx.events.update_event(event, &outbox).await {
        Ok(()) => {}
        Err(UpdateEventError::CapacityBelowConfirmed { confirmed }) => {
            return Err(ApiError::Invalid(vec![FieldError {
                field: "max_capacity",
                message: format!("{confirmed} seats are taken; the capacity cannot be lower"),
            }]))
        }
        Err(UpdateEventError::Store(e)) => return Err(e.into()),
    }
    ctx.publish(&outbox).await;
    if event.status == EventStatus::Published {
        fill_from_waitlist(ctx, event).await?;
    }
    let stats = ctx.read_model.stats(event.id).await?;
    json(StatusCode::OK, &EventWithStats { event, stats })
}
