//! GET /events/{id}/report — the owner's (or an ADMIN's) figures, from the read model.
//!
//! Money is what the provider reported: `revenue_cents` is money received minus refunds,
//! `refunded_cents` the refunds, `pending_cents` the price of seats held while their
//! attendees pay — in the event's currency's minor unit (its ISO 4217 exponent says how
//! many decimals: 2 for EUR, 0 for JPY, 3 for KWD), and under `money` for every currency
//! the event has taken (an organizer may change the currency). Registrations per day
//! count registrations made (confirmed, held or waitlisted) per UTC day, whatever became
//! of them.

use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;

use super::Caller;
use crate::app::AppContext;
use crate::domain::calendar::format_day;
use crate::domain::validate::currency_exponent;
use crate::domain::{EventId, EventStats, MoneyTotals};
use crate::http::{json, path, ApiResult};

#[derive(Serialize)]
struct Report {
    event_id: EventId,
    #[serde(flatten)]
    stats: EventStats,
    /// The event's currency now, and its money in it.
    currency: String,
    /// Decimals of `currency`'s minor unit.
    currency_exponent: u8,
    revenue_cents: u64,
    refunded_cents: u64,
    pending_cents: u64,
    /// Every currency's money, by code.
    money: Vec<Money>,
    registrations_per_day: Vec<Day>,
}

#[derive(Serialize)]
struct Money {
    #[serde(flatten)]
    totals: MoneyTotals,
    currency_exponent: u8,
}

#[derive(Serialize)]
struct Day {
    /// `YYYY-MM-DD`, UTC.
    date: String,
    registrations: u64,
}

/// Serves `GET /events/{id}/report` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let event_id: EventId = path(&req)?;
    let event = caller.event(ctx, event_id).await?;
    let report = ctx.read_model.report(event_id).await?;
    let current = report
        .money
        .iter()
        .find(|m| m.currency == event.currency)
        .cloned()
        .unwrap_or_default();
    json(
        StatusCode::OK,
        &Report {
            event_id,
            stats: report.stats,
            currency_exponent: currency_exponent(&event.currency).unwrap_or(2),
            currency: event.currency,
            revenue_cents: current.revenue_cents,
            refunded_cents: current.refunded_cents,
            pending_cents: current.pending_cents,
            money: report
                .money
                .into_iter()
                .map(|totals| Money {
                    currency_exponent: currency_exponent(&totals.currency).unwrap_or(2),
                    totals,
                })
                .collect(),
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
