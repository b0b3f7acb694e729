//! Taking a seat — the one code path of every way to register (the JSON route
//! `POST /events/{id}/registrations` and the event page's form `POST /e/{slug}`) — and opening the provider's checkout for a held seat, which new
//! paid registrations and waitlist offers both need.

use crate::app::AppContext;
use crate::domain::{
    Checkout, Envelope, Event, EventId, EventStatus, NewRegistration, Promotion, Registration,
    RegistrationId, RegistrationStatus, Release,
};
use crate::http::ApiError;
use crate::ports::{CheckoutRequest, PaymentsError, StoreError};

/// How often a waitlisting that found a freed seat goes back for it. Each retry means a
/// seat was released in the last few milliseconds; more than a handful means heavy churn.
const SEAT_RACES: usize = 5;

/// Why a checkout could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// The provider failed.
    #[error(transparent)]
    Payments(#[from] PaymentsError),
    /// The store failed or refused (the hold lapsed or was cancelled meanwhile).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Registers `request` for the event `event_id`: a seat (held for payment on a paid
/// event, with its checkout opened), or a waitlist place when the event is full and has
/// one. The store's transactions decide, atomically, whether a seat is left, whether the
/// waitlist is open and whether the email is already in. Every outcome is counted
/// ([`crate::telemetry::registration`]).
pub async fn register(
    ctx: &AppContext,
    event_id: EventId,
    request: NewRegistration,
) -> Result<Registration, ApiError> {
    let registration = take_seat(ctx, event_id, request).await;
    crate::telemetry::registration(&registration);
    registration
}

async fn take_seat(
    ctx: &AppContext,
    event_id: EventId,
    request: NewRegistration,
) -> Result<Registration, ApiError> {
    let now = ctx.clock.now();
    let confirmed = request.confirmed(RegistrationId::now_v7(), event_id, now)?;
    // The price decides between a seat and a held seat; the store's own condition decides
    // whether the event is open at all, so a draft reads as not found either way.
    let event = ctx
        .events
        .event(event_id)
        .await?
        .filter(|event| event.status == EventStatus::Published)
        .ok_or(ApiError::NotFound("event"))?;
    event.refuse_ended(now)?;
    let seat = match event.hold_at(now) {
        Some(hold) => confirmed.held(hold),
        None => confirmed,
    };
    let registration = seat_or_waitlist(ctx, seat).await?;
    if registration.status != RegistrationStatus::PendingPayment {
        return Ok(registration);
    }
    match open_checkout(ctx, &event, &registration, |_| Vec::new()).await {
        Ok(opened) => Ok(opened),
        Err(error) => {
            // No way to pay: give the seat back now rather than at the hold's expiry.
            let release = Release {
                promotion: event.promotion_at(now),
                refund: false,
            };
            let cancellation = ctx
                .registrations
                .cancel(registration.id, now, &release)
                .await?;
            ctx.publish(&cancellation.outbox).await;
            tracing::error!(%error, "opening a checkout failed; the hold was released");
            Err(ApiError::PaymentProviderUnavailable)
        }
    }
}

async fn seat_or_waitlist(ctx: &AppContext, seat: Registration) -> Result<Registration, ApiError> {
    let waitlisted = seat.waitlisted();
    for attempt in 0..SEAT_RACES {
        if attempt > 0 {
            crate::telemetry::seat_race_retry();
        }
        match record(ctx, &seat).await {
            Err(StoreError::EventFull) => {}
            outcome => return outcome.map(|()| seat).map_err(Into::into),
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

/// Opens the provider's checkout for the held `registration` of `event` and records it on
/// the registration, with `outbox` (given the registration as updated) in the same write;
/// returns it as updated. The provider call is idempotent per hold, so a retry opens the
/// same checkout; a hold that lapsed or was cancelled meanwhile gets its checkout closed
/// again and a [`CheckoutError::Store`].
pub async fn open_checkout(
    ctx: &AppContext,
    event: &Event,
    registration: &Registration,
    outbox: impl FnOnce(&Registration) -> Vec<Envelope>,
) -> Result<Registration, CheckoutError> {
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
        Ok(recorded) => {
            ctx.publish(&outbox).await;
            Ok(recorded)
        }
        Err(error) => {
            ctx.payments.expire_checkout(&checkout.id).await?;
            Err(error.into())
        }
    }
}

/// How a seat of `event` released now passes on, and whether a cancellation by `by_admin`
/// (or not) is refunded: the event's promotion and refund policy.
pub fn release_plan(event: &Event, now: time::OffsetDateTime, by_admin: bool) -> Release {
    Release {
        promotion: event.promotion_at(now),
        refund: event.is_paid() && event.refunds_at(now, by_admin),
    }
}

/// Cancels `registration` of `event` now, by an ADMIN or not (which the refund policy
/// asks), and publishes what the cancellation wrote: the one code path of
/// `DELETE /registrations/{id}` and the attendee page's cancel button. The registration as
/// cancelled; a registration that holds nothing any more (cancelled, checked in) is 409.
pub async fn cancel(
    ctx: &AppContext,
    registration: &Registration,
    event: &Event,
    by_admin: bool,
) -> Result<Registration, ApiError> {
    let now = ctx.clock.now();
    let cancellation = ctx
        .registrations
        .cancel(registration.id, now, &release_plan(event, now, by_admin))
        .await?;
    ctx.publish(&cancellation.outbox).await;
    Ok(cancellation.cancelled)
}

/// Gives every free seat of `event` to the head of its waitlist in turn (after its
/// capacity was raised), publishing each promotion; returns how many were promoted.
pub async fn fill_from_waitlist(ctx: &AppContext, event: &Event) -> Result<usize, StoreError> {
    let mut promoted = 0;
    loop {
        let promotion: Promotion = event.promotion_at(ctx.clock.now());
        match ctx
            .registrations
            .promote(event.id, &promotion, ctx.clock.now())
            .await?
        {
            Some(done) => {
                ctx.publish(&done.outbox).await;
                promoted += 1;
            }
            None => return Ok(promoted),
        }
    }
}
