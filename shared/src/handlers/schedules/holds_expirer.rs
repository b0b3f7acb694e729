//! The holds expirer: releases every seat held for payment (or offered from the waitlist)
//! whose time ran out, on time — never left to DynamoDB's TTL, which can lag by days. Due
//! holds come from the index on expiry; each is released in one transaction that passes
//! the seat to the head of the waitlist as a cancellation does (an offer, on a paid event)
//! and writes HoldExpired (the attendee is mailed; the payments worker closes the
//! checkout). A hold paid in the meantime is left alone: the store's condition decides.

use std::collections::HashMap;

use crate::app::AppContext;
use crate::domain::{Event, EventId};
use crate::ports::BoxError;

/// Holds read per round.
const BATCH: usize = 100;

/// Releases every hold lapsed by now; returns how many were released.
pub async fn run(ctx: &AppContext) -> Result<usize, BoxError> {
    let mut events: HashMap<EventId, Option<Event>> = HashMap::new();
    let mut released = 0;
    loop {
        let now = ctx.clock.now();
        let due = ctx.payment_records.due_holds(now, BATCH).await?;
        if due.is_empty() {
            return Ok(released);
        }
        let mut progressed = false;
        for hold in due {
            let event = match events.get(&hold.event_id) {
                Some(event) => event.clone(),
                None => {
                    let event = ctx.events.event(hold.event_id).await?;
                    events.insert(hold.event_id, event.clone());
                    event
                }
            };
            let Some(event) = event else {
                tracing::error!(registration_id = %hold.id, "a hold of a missing event");
                continue;
            };
            let promotion = event.promotion_at(now);
            if let Some(release) = ctx
                .payment_records
                .expire_hold(hold.id, now, &promotion)
                .await?
            {
                ctx.publish(&release.outbox).await;
                released += 1;
                progressed = true;
            }
        }
        // The index is eventually consistent: holds just paid or released may still be
        // listed. Stop when a round changed nothing rather than read them forever.
        if !progressed {
            return Ok(released);
        }
    }
}
