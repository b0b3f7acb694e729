//! Changing a registration's details — the one code path of `PUT /registrations/{id}` and
//! the attendee page's form (cancelling is [`super::seats::cancel`]).

use crate::app::AppContext;
use crate::domain::{DetailsChange, DomainEvent, Envelope, Registration};
use crate::http::ApiError;

/// `current` with `change` applied, stored with its `RegistrationUpdated` event, which is
/// then published. 422 naming each invalid field; 409 `registration_cancelled` for a
/// cancelled registration.
pub async fn update_details(
    ctx: &AppContext,
    current: &Registration,
    change: DetailsChange,
) -> Result<Registration, ApiError> {
    let updated = change.apply(current)?;
    let outbox = [Envelope::new(
        DomainEvent::RegistrationUpdated {
            registration: updated.clone(),
        },
        ctx.clock.now(),
    )];
    let stored = ctx.registrations.update_details(&updated, &outbox).await?;
    ctx.publish(&outbox).await;
    Ok(stored)
}
