//! Acting once per key however often the work is asked for: the one claim → run →
//! complete-or-release protocol over [`IdempotencyStore`](crate::ports::IdempotencyStore),
//! which `Idempotency-Key` on the routes, the workers' once-only sends and the payment
//! webhook's provider events all run through.
//!
//! The key is claimed first (a conditional write, so two concurrent claimants never both
//! run); the work runs; what it decides to remember completes the claim, so every later
//! claimant gets that outcome instead of running again; work that remembers nothing
//! releases the claim, so a retry runs it again. A claim whose holder died (the function
//! timed out) is taken over once its [`LEASE`] is over.

use std::future::Future;

use time::Duration;

use crate::app::AppContext;
use crate::ports::{Claim, StoreError};

/// A claim older than this belongs to work that died with its function (every function's
/// timeout is at most 10 s; SQS redelivers after 60 s): the next claimant takes it over.
pub const LEASE: Duration = Duration::seconds(30);

/// What a key asks to be done once: its name, what identifies the work under it, and how
/// long its outcome is remembered.
#[derive(Debug, Clone, Copy)]
pub struct OnceKey<'a> {
    /// The idempotency record's key, namespaced by its user (`http:POST /x:<key>`,
    /// `payments-webhook:<event id>`, `email:<envelope id>`).
    pub key: &'a str,
    /// What the work is (a hash of a request); a claimant with another fingerprint is
    /// [`Once::Mismatch`]. Empty where a key names one piece of work only.
    pub fingerprint: &'a str,
    /// How long after its claim the record answers (then the key is free again).
    pub memory: Duration,
}

/// What [`once`] did.
#[derive(Debug)]
pub enum Once<T> {
    /// The work ran now, with this result.
    Ran(T),
    /// It ran to completion before; this is the outcome it remembered.
    Done(String),
    /// It runs elsewhere now, its lease not over: retry later.
    InFlight,
    /// The key was claimed before for other work (another fingerprint).
    Mismatch,
}

/// Runs `work` under `key` unless it ran before (see the module docs). `work` returns its
/// result and what to remember of it: `Some(outcome)` completes the claim, `None` releases
/// it. A store that fails to complete or release is logged, not returned: the work's own
/// result is what the caller acts on (an unrecorded completion lets a retry run once more
/// after the lease; an unreleased claim holds a retry off until then). Fails, running
/// nothing, when the claim itself cannot be made.
pub async fn once<T, F, Fut>(
    ctx: &AppContext,
    key: OnceKey<'_>,
    work: F,
) -> Result<Once<T>, StoreError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = (T, Option<String>)>,
{
    match ctx
        .idempotency
        .claim(key.key, key.fingerprint, ctx.clock.now(), LEASE, key.memory)
        .await?
    {
        Claim::Acquired => {}
        Claim::InFlight { fingerprint } | Claim::Completed { fingerprint, .. }
            if fingerprint != key.fingerprint =>
        {
            return Ok(Once::Mismatch)
        }
        Claim::InFlight { .. } => return Ok(Once::InFlight),
        Claim::Completed { outcome, .. } => return Ok(Once::Done(outcome)),
    }
    let (result, remember) = work().await;
    match remember {
        Some(outcome) => {
            if let Err(error) = ctx.idempotency.complete(key.key, &outcome).await {
                tracing::warn!(%error, key = key.key, "recording a once-only outcome failed; a retry after the lease runs it again");
            }
        }
        None => {
            if let Err(error) = ctx.idempotency.release(key.key).await {
                tracing::warn!(%error, key = key.key, "releasing a once-only claim failed; it expires with its lease");
            }
        }
    }
    Ok(Once::Ran(result))
}
