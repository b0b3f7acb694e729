//! GET /e/{slug} — the public event page: server-rendered HTML, readable without script,
//! with the registration form (posted to `POST /e/{slug}`); and GET /e/{slug}.ics, the
//! event as an iCalendar file (RFC 5545) to add to a calendar. API Gateway's path
//! parameters are whole segments, so the calendar is the same route with the slug ending
//! in `.ics` (a slug never holds a dot). Both are public and CDN-cached like the public
//! JSON; drafts and unknown slugs are 404 `not_found`.

use http::header::CONTENT_DISPOSITION;
use http::HeaderValue;
use icalendar::{Calendar, Component as _, EventLike as _};
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{Event, EventStatus};
use crate::handlers::common::event_page::{self, page_url, public_event, RegistrationForm};
use crate::http::html::HTML;
use crate::http::{path, public_body, ApiResult, EventSlug};

/// The calendar's media type (RFC 5545 §8.1).
const CALENDAR: &str = "text/calendar; charset=utf-8";

/// Serves `GET /e/{slug}` and `GET /e/{slug}.ics` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let EventSlug(slug) = path(&req)?;
    if let Some(slug) = slug.strip_suffix(".ics") {
        let event = public_event(ctx, slug).await?;
        let mut response = public_body(&req, CALENDAR, calendar(ctx, &event))?;
        if let Ok(disposition) =
            HeaderValue::from_str(&format!("attachment; filename=\"{}.ics\"", event.slug))
        {
            response
                .headers_mut()
                .insert(CONTENT_DISPOSITION, disposition);
        }
        return Ok(response);
    }
    let event = public_event(ctx, &slug).await?;
    let stats = ctx.read_model.stats(event.id).await?;
    let html = event_page::render(ctx, &event, stats, &RegistrationForm::default())?;
    public_body(&req, HTML, html)
}

/// `event` as a one-event calendar: its times in UTC (valid in every calendar without a
/// `VTIMEZONE`; the calendar shows them in its user's zone), a stable `UID`, so importing
/// it again updates the entry, and the page's URL.
fn calendar(ctx: &AppContext, event: &Event) -> String {
    let mut entry = icalendar::Event::new();
    entry
        .uid(&format!("{}@evreg", event.id))
        .summary(&event.name)
        .location(&event.venue)
        .starts(event.date)
        .ends(event.ends_at())
        .url(&page_url(ctx, event))
        .timestamp(crate::domain::calendar::chrono_utc(ctx.clock.now()));
    if !event.description.is_empty() {
        entry.description(&event.description);
    }
    if event.status == EventStatus::Cancelled {
        entry.status(icalendar::EventStatus::Cancelled);
    }
    Calendar::new()
        .name(&event.name)
        .push(entry.done())
        .done()
        .to_string()
}
