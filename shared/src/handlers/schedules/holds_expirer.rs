//! The holds expirer: releases every seat held for payment (or offered from the waitlist)
//! whose time ran out, on time — never left to DynamoDB's TTL, which can lag by days. Due
//! holds come from the index on expiry; each is released in one transaction that passes
//! the seat to the head of the waitlist as a cancellation does (an offer, on a paid event)
//! and writes HoldExpired (the attendee is mailed; the payments worker closes the
//! checkout). A hold paid in the meantime is left alone: the store's condition decides.

use std::collections::HashMap;

use futures_util::stream::{self, StreamExt, TryStreamExt};

use crate::app::AppContext;
use crate::domain::{Event, EventId, Registration};
use crate::ports::BoxError;

/// Holds read per round.
const BATCH: usize = 100;

/// Events whose holds are released at once. One event's holds go one after another: each
/// release updates the event's seat counters and may promote the head of its waitlist, so
/// releasing them side by side only makes them retry each other (`Contended`).
pub const IN_FLIGHT: usize = 8;

/// Releases every hold lapsed by now, the holds of [`IN_FLIGHT`] events at a time; returns
/// how many were released.
pub async fn run(ctx: &AppContext) -> Result<usize, BoxError> {
    let mut events: HashMap<EventId, Option<Event>> = HashMap::new();
    let mut released = 0;
    loop {
        let now = ctx.clock.now();
        let due = ctx.payment_records.due_holds(now, BATCH).await?;
        if due.is_empty() {
            return Ok(released);
        }
        // By event, each in the order of expiry the index gave.
        let mut by_event: Vec<(EventId, Vec<Registration>)> = Vec::new();
        for hold in due {
            match by_event.iter_mut().find(|(id, _)| *id == hold.event_id) {
                Some((_, holds)) => holds.push(hold),
                None => by_event.push((hold.event_id, vec![hold])),
            }
        }
        for (event_id, _) in &by_event {
            if !events.contains_key(event_id) {
                events.insert(*event_id, ctx.events.event(*event_id).await?);
            }
        }
        let events = &events;
        let round: usize = stream::iter(by_event)
            .map(|(event_id, holds)| async move {
                let mut count = 0;
                for hold in &holds {
                    count += usize::from(release(ctx, hold, events.get(&event_id), now).await?);
                }
                Ok::<_, BoxError>(count)
            })
            .buffer_unordered(IN_FLIGHT)
            .try_fold(0, |total, count| async move { Ok(total + count) })
            .await?;
        released += round;
        // The index is eventually consistent: holds just paid or released may still be
        // listed. Stop when a round changed nothing rather than read them forever.
        if round == 0 {
            return Ok(released);
        }
    }
}

/// Releases one due hold; `false` when it was not this run's to release (paid, cancelled
/// or not due after all).
async fn release(
    ctx: &AppContext,
    hold: &Registration,
    event: Option<&Option<Event>>,
    now: time::OffsetDateTime,
) -> Result<bool, BoxError> {
    let Some(Some(event)) = event else {
        tracing::error!(registration_id = %hold.id, "a hold of a missing event");
        return Ok(false);
    };
    let promotion = event.promotion_at(now);
    match ctx
        .payment_records
        .expire_hold(hold.id, now, &promotion)
        .await?
    {
        Some(release) => {
            ctx.publish(release).await;
            Ok(true)
        }
        None => Ok(false),
    }
}
