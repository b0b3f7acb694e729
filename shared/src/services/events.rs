//! An organizer's change to an event — `PUT /events/{id}` and `DELETE /events/{id}` —
//! stored with its domain event, and the seats it frees (a capacity raise) given to the
//! head of the waitlist: confirmed on a free event, offered on a paid one, never a
//! newcomer ahead of them.

use super::registrations::fill_from_waitlist;
use super::ServiceError;
use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, Event, EventStatus, NewEvent};
use crate::ports::UpdateEventError;

/// `current` replaced by `change` (validated: [`ServiceError::Invalid`] naming each
/// field): see [`save`]. A change to CANCELLED is an EventCancelled, any other an
/// EventUpdated (naming the slug it left, if it was renamed). Returns the event as stored.
pub async fn update(
    ctx: &AppContext,
    current: &Event,
    change: NewEvent,
) -> Result<Event, ServiceError> {
    let event = change.validate_update(current)?;
    let domain_event = if event.status == EventStatus::Cancelled {
        DomainEvent::EventCancelled {
            event: event.clone(),
        }
    } else {
        DomainEvent::EventUpdated {
            event: event.clone(),
            previous_slug: Some(current.slug.clone()).filter(|slug| *slug != event.slug),
        }
    };
    save(ctx, &event, domain_event).await?;
    Ok(event)
}

/// `current` cancelled for good (an ADMIN's `DELETE`): [`ServiceError::Refused`] when it
/// is cancelled already. Returns the event as stored.
pub async fn cancel(ctx: &AppContext, current: &Event) -> Result<Event, ServiceError> {
    let event = current.cancelled()?;
    let domain_event = DomainEvent::EventCancelled {
        event: event.clone(),
    };
    save(ctx, &event, domain_event).await?;
    Ok(event)
}

/// Stores `event` with `domain_event` in the outbox, publishes it, and fills the seats it
/// freed from the waitlist. A capacity below the seats taken is
/// [`ServiceError::CapacityBelowTaken`]; a slug in use is the store's `SlugTaken`.
async fn save(
    ctx: &AppContext,
    event: &Event,
    domain_event: DomainEvent,
) -> Result<(), ServiceError> {
    let outbox = [Envelope::new(domain_event, ctx.clock.now())];
    let updated = match ctx.events.update_event(event, &outbox).await {
        Ok(updated) => updated,
        Err(UpdateEventError::CapacityBelowConfirmed { confirmed }) => {
            return Err(ServiceError::CapacityBelowTaken { confirmed })
        }
        Err(UpdateEventError::Store(error)) => return Err(error.into()),
    };
    ctx.publish(updated).await;
    if event.status == EventStatus::Published {
        fill_from_waitlist(ctx, event).await?;
    }
    Ok(())
}
