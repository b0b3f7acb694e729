//! GET /events/{id}/report — the owner's (or an ADMIN's) figures, from the read model.
//!
//! Revenue is the event's current price times the seats held (confirmed or checked in):
//! evreg takes no payments, so this is what the organizer expects to collect, and a price
//! change re-prices every seat. Registrations per day count registrations made (confirmed
//! or waitlisted) per UTC day, whatever became of them.

use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;

use super::Caller;
use crate::app::AppContext;
use crate::domain::calendar::format_day;
use crate::domain::{EventId, EventStats};
use crate::http::{json, path_id, ApiResult};

#[derive(Serialize)]
struct Report {
    event_id: EventId,
    #[serde(flatten)]
    stats: EventStats,
    revenue_cents: u64,
    currency: String,
    registrations_per_day: Vec<Day>,
}

#[derive(Serialize)]
struct Day {
    /// `YYYY-MM-DD`, UTC.
    date: String,
    registrations: u64,
}

/// Serves `GET /events/{id}/report` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let event_id: EventId = path_id(&req, "id", "event")?;
    let event = caller.event(ctx, event_id).await?;
    let report = ctx.read_model.report(event_id).await?;
    json(
        StatusCode::OK,
        &Report {
            event_id,
            stats: report.stats,
            revenue_cents: event.price_cents.saturating_mul(report.stats.registered),
            currency: event.currency,
            registrations_per_day: report
                .per_day
                .into_iter()
                .map(|(date, registrations)| Day {
                    date: format_day(date),
                    registrations,
                })
                .collect(),
        },
    )
}
