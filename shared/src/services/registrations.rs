//! Registrations: taking a seat — the one code path of every way to register (the JSON
//! route `POST /events/{id}/registrations` and the event page's form `POST /e/{slug}`) —
//! cancelling (`DELETE /registrations/{id}` and the attendee page's button), changing the
//! details (`PUT /registrations/{id}` and the attendee page's form), and giving freed seats
//! to the waitlist.

use super::checkout::open_checkout;
use super::ServiceError;
use crate::app::AppContext;
use crate::domain::{
    DetailsChange, DomainEvent, Envelope, Event, EventId, EventStatus, NewRegistration, Promotion,
    Registration, RegistrationId, RegistrationStatus, Release,
};
use crate::ports::StoreError;

/// How often a waitlisting that found a freed seat goes back for it. Each retry means a
/// seat was released in the last few milliseconds; more than a handful means heavy churn.
const SEAT_RACES: usize = 5;

/// Registers `request` for the event `event_id`: a seat (held for payment on a paid
/// event, with its checkout opened), or a waitlist place when the event is full and has
/// one. The store's transactions decide, atomically, whether a seat is left, whether the
/// waitlist is open and whether the email is already in. Every outcome is counted
/// ([`crate::telemetry::registration`]).
pub async fn register(
    ctx: &AppContext,
    event_id: EventId,
    request: NewRegistration,
) -> Result<Registration, ServiceError> {
    let registration = take_seat(ctx, event_id, request).await;
    crate::telemetry::registration(&registration);
    registration
}

async fn take_seat(
    ctx: &AppContext,
    event_id: EventId,
    request: NewRegistration,
) -> Result<Registration, ServiceError> {
    let now = ctx.clock.now();
    let confirmed = request.confirmed(RegistrationId::now_v7(), event_id, now)?;
    // The price decides between a seat and a held seat; the store's own condition decides
    // whether the event is open at all, so a draft reads as not found either way.
    let event = ctx
        .events
        .event(event_id)
        .await?
        .filter(|event| event.status == EventStatus::Published)
        .ok_or(ServiceError::NotFound("event"))?;
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
            ctx.publish(cancellation).await;
            tracing::error!(%error, "opening a checkout failed; the hold was released");
            Err(ServiceError::PaymentProviderUnavailable)
        }
    }
}

async fn seat_or_waitlist(
    ctx: &AppContext,
    seat: Registration,
) -> Result<Registration, ServiceError> {
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
    Err(ServiceError::Busy)
}

/// Writes the registration with its domain event in the outbox, then publishes it.
async fn record(ctx: &AppContext, registration: &Registration) -> Result<(), StoreError> {
    let outbox = [registration.made(ctx.clock.now())];
    let recorded = match registration.status {
        RegistrationStatus::Waitlisted => ctx.registrations.waitlist(registration, &outbox).await?,
        _ => ctx.registrations.register(registration, &outbox).await?,
    };
    ctx.publish(recorded).await;
    Ok(())
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
) -> Result<Registration, ServiceError> {
    let now = ctx.clock.now();
    let cancellation = ctx
        .registrations
        .cancel(registration.id, now, &release_plan(event, now, by_admin))
        .await?;
    Ok(ctx.publish(cancellation).await.cancelled)
}

/// `current` with `change` applied, stored with its `RegistrationUpdated` event, which is
/// then published: [`ServiceError::Invalid`] naming each invalid field,
/// [`ServiceError::Refused`] (`Cancelled`) for a cancelled registration.
pub async fn update_details(
    ctx: &AppContext,
    current: &Registration,
    change: DetailsChange,
) -> Result<Registration, ServiceError> {
    let updated = change.apply(current)?;
    let outbox = [Envelope::new(
        DomainEvent::RegistrationUpdated {
            registration: updated.clone(),
        },
        ctx.clock.now(),
    )];
    let stored = ctx.registrations.update_details(&updated, &outbox).await?;
    Ok(ctx.publish(stored).await)
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
                ctx.publish(done).await;
                promoted += 1;
            }
            None => return Ok(promoted),
        }
    }
}
