//! Writing an organizer's change to an event: shared by `PUT /events/{id}` and
//! `DELETE /events/{id}`.

use crate::app::AppContext;
use crate::domain::{Envelope, Event, FieldError};
use crate::http::ApiError;
use crate::ports::UpdateEventError;

/// Stores `event` with `envelope` in the outbox, then publishes it. A capacity below the
/// seats taken is a 422 naming `max_capacity`; a slug in use a 409.
pub async fn save(ctx: &AppContext, event: &Event, envelope: Envelope) -> Result<(), ApiError> {
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
    Ok(())
}
