//! The outbox sweeper: republishes what a write left in the outbox unpublished — its
//! function died between the commit and the publish, or the bus was down — so that every
//! domain event of a committed write reaches the bus at least once. It is the one safety
//! net behind the publish that follows every write ([`AppContext::publish`]).

use time::{Duration, OffsetDateTime};

use crate::app::AppContext;
use crate::domain::Envelope;
use crate::ports::BoxError;

/// Outbox entries younger than this are left to the request that wrote them, so the
/// sweeper does not race every fresh write into a duplicate delivery.
pub const SWEEP_GRACE: Duration = Duration::seconds(30);
const SWEEP_BATCH: usize = 100;

/// Republishes the outbox entries older than [`SWEEP_GRACE`]; returns how many.
pub async fn run(ctx: &AppContext) -> Result<usize, BoxError> {
    sweep_written_before(ctx, ctx.clock.now() - SWEEP_GRACE).await
}

/// Republishes the outbox entries written before `cutoff` (at a dev server's start, every
/// entry its dead predecessor left, without waiting out the grace period), and measures the
/// oldest entry's age ([`crate::telemetry::outbox_oldest_age`]); returns how many.
pub async fn sweep_written_before(
    ctx: &AppContext,
    cutoff: OffsetDateTime,
) -> Result<usize, BoxError> {
    let now = ctx.clock.now();
    let mut swept = 0;
    let mut measured = false;
    loop {
        let unpublished = ctx.outbox.unpublished(SWEEP_BATCH).await?;
        if !measured {
            let oldest = unpublished.iter().map(|e| e.occurred_at).min();
            crate::telemetry::outbox_oldest_age(
                oldest.map_or(0.0, |at| (now - at).as_seconds_f64()),
            );
            measured = true;
        }
        let stale: Vec<Envelope> = unpublished
            .into_iter()
            .filter(|e| e.occurred_at < cutoff)
            .collect();
        if stale.is_empty() {
            crate::telemetry::outbox_swept(swept);
            return Ok(swept);
        }
        ctx.publish_and_mark(&stale).await?;
        swept += stale.len();
    }
}
