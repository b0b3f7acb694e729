//! Acting once per key however often a message is delivered (at-least-once delivery,
//! duplicates, a function dying mid-way), and walking an event's registrations a page per
//! invocation. The email and payments workers share both.

use std::future::Future;

use time::Duration;

use crate::app::AppContext;
use crate::domain::{DomainEvent, Envelope, EventId, Registration};
use crate::ports::BoxError;
use crate::services;
use crate::services::once::{Once, OnceKey};

/// Longer than any redelivery: the queue's retries end within minutes, a sweep within days.
pub const MEMORY: Duration = Duration::days(14);

/// Runs `work` unless it ran to completion before under the idempotency key `key`
/// ([`crate::services::once`]: released when `work` fails, so a retry runs it again).
/// `Ok(true)` when it ran now, `Ok(false)` when it had run before; work in flight under
/// the key elsewhere is an error, so the message comes back after the lease.
pub async fn once<F, Fut>(ctx: &AppContext, key: &str, work: F) -> Result<bool, BoxError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), BoxError>>,
{
    let key = OnceKey {
        key,
        fingerprint: "",
        memory: MEMORY,
    };
    let ran = services::once::once(ctx, key, || async {
        let result = work().await;
        let remember = result.is_ok().then(|| "done".to_owned());
        (result, remember)
    })
    .await?;
    match ran {
        Once::Ran(result) => result.map(|()| true),
        Once::Done(_) => Ok(false),
        Once::InFlight | Once::Mismatch => {
            Err(format!("{} is in progress elsewhere", key.key).into())
        }
    }
}

/// Registrations read (and acted on at most) per invocation.
pub const PAGE_SIZE: usize = 50;

/// One page of `event_id`'s registrations from `cursor` for `job`, so an event of 10,000
/// registrants never runs a Lambda into its timeout: `each(key, registration)` runs once
/// per (job, registration) under the idempotency key `key`, the page once per (job, cursor) — so a redelivered page neither repeats
/// work nor forks the chain, and a page retried after a partial failure does only what it
/// missed — and the page ends by publishing `next(event_id, cursor)` for the next one.
pub async fn each_registration<F, Fut>(
    ctx: &AppContext,
    job: &str,
    event_id: EventId,
    cursor: Option<&str>,
    next: fn(EventId, String) -> DomainEvent,
    mut each: F,
) -> Result<(), BoxError>
where
    F: FnMut(String, Registration) -> Fut,
    Fut: Future<Output = Result<(), BoxError>>,
{
    let page_key = format!("{job}:{event_id}:{}", cursor.unwrap_or("start"));
    once(ctx, &page_key, || async {
        let page = ctx
            .registrations
            .registrations(event_id, None, PAGE_SIZE, cursor)
            .await?;
        for registration in page.items {
            let key = format!("{job}:{event_id}:{}", registration.id);
            once(ctx, &key, || each(key.clone(), registration)).await?;
        }
        if let Some(cursor) = page.next_cursor {
            let follow_up = Envelope::new(next(event_id, cursor), ctx.clock.now());
            ctx.bus.publish(&[follow_up]).await?;
        }
        Ok(())
    })
    .await
    .map(|_| ())
}
