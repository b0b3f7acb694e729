//! Opening the provider's checkout for a held seat, which new paid registrations and
//! waitlist offers both need.

use super::ServiceError;
use crate::app::AppContext;
use crate::domain::{Checkout, Envelope, Event, Registration};
use crate::ports::{CheckoutRequest, StoreError};

/// Opens the provider's checkout for the held `registration` of `event` and records it on
/// the registration, with `outbox` (given the registration as updated) in the same write;
/// returns it as updated. The provider call is idempotent per hold, so a retry opens the
/// same checkout; a hold that lapsed or was cancelled meanwhile gets its checkout closed
/// again and a [`ServiceError::Refused`] (or [`ServiceError::Store`]); a provider that
/// fails is [`ServiceError::Provider`].
pub async fn open_checkout(
    ctx: &AppContext,
    event: &Event,
    registration: &Registration,
    outbox: impl FnOnce(&Registration) -> Vec<Envelope>,
) -> Result<Registration, ServiceError> {
    let Some(hold) = &registration.hold else {
        return Err(
            StoreError::Corrupt(format!("{} holds no seat to pay", registration.id)).into(),
        );
    };
    let checkout: Checkout = ctx
        .payments
        .create_checkout(&CheckoutRequest {
            registration_id: registration.id,
            event_id: event.id,
            description: event.name.clone(),
            amount_cents: hold.amount_cents,
            currency: hold.currency.clone(),
            customer_email: registration.email.clone(),
            expires_at: hold.expires_at,
            return_url: ctx.manage_url(registration.id),
        })
        .await?;
    let mut opened = registration.clone();
    if let Some(hold) = opened.hold.as_mut() {
        hold.checkout_id = Some(checkout.id.clone());
        hold.checkout_url = Some(checkout.url.clone());
    }
    let outbox = outbox(&opened);
    match ctx
        .payment_records
        .record_checkout(registration.id, &checkout, &outbox)
        .await
    {
        Ok(recorded) => Ok(ctx.publish(recorded).await),
        Err(error) => {
            ctx.payments.expire_checkout(&checkout.id).await?;
            Err(error.into())
        }
    }
}
