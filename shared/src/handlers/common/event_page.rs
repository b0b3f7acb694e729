//! The public event page (`/e/{slug}`) as both of its routes render it: `GET` shows it
//! with an empty registration form, `POST` shows it again with what the visitor typed and
//! what was wrong with it. HTML from an askama template, which escapes every value it
//! writes (organizer and attendee text alike); nothing on the page runs script.

use askama::Template;
use time::OffsetDateTime;

use crate::app::AppContext;
use crate::domain::calendar::When;
use crate::domain::payment::format_money;
use crate::domain::{Event, EventStats, EventStatus, FieldError, NewRegistration};
use crate::http::form::{Form, FormTokens};
use crate::http::html::PAGE_CSS;
use crate::http::ApiError;

/// The form's field names, as the page writes them and the post reads them.
pub mod fields {
    /// The attendee's email address.
    pub const EMAIL: &str = "email";
    /// The attendee's name.
    pub const FULL_NAME: &str = "full_name";
    /// An optional phone number.
    pub const PHONE: &str = "phone";
    /// The form token (see [`crate::http::form`]).
    pub const CSRF_TOKEN: &str = "csrf_token";
    /// The key that makes a double submit register once.
    pub const IDEMPOTENCY_KEY: &str = "idempotency_key";
}

/// The event a public page shows: published or cancelled (a cancelled event's page says
/// so); a draft or an unknown slug is 404 `not_found`, as on the JSON API.
pub async fn public_event(ctx: &AppContext, slug: &str) -> Result<Event, ApiError> {
    ctx.events
        .event_by_slug(slug)
        .await?
        .filter(|event| event.status != EventStatus::Draft)
        .ok_or(ApiError::NotFound("event"))
}

/// The page's absolute URL under the API's public base URL (`og:url`, the calendar's URL).
pub fn page_url(ctx: &AppContext, event: &Event) -> String {
    format!("{}/e/{}", ctx.public_url.trim_end_matches('/'), event.slug)
}

/// The registration form as the visitor filled it in, with what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct RegistrationForm {
    /// As typed.
    pub email: String,
    /// As typed.
    pub full_name: String,
    /// As typed; empty is none.
    pub phone: String,
    /// Shown beside their fields.
    pub errors: Vec<FieldError>,
    /// Shown above the form: what went wrong that is no one field's fault.
    pub notice: Option<String>,
}

impl RegistrationForm {
    /// The visitor's fields of a posted form (absent ones empty).
    pub fn from_form(form: &Form) -> Self {
        let field = |name| form.get(name).unwrap_or_default().to_owned();
        Self {
            email: field(fields::EMAIL),
            full_name: field(fields::FULL_NAME),
            phone: field(fields::PHONE),
            errors: Vec::new(),
            notice: None,
        }
    }

    /// The registration request the JSON route would have received.
    pub fn registration(&self) -> NewRegistration {
        NewRegistration {
            email: self.email.clone(),
            full_name: self.full_name.clone(),
            phone: Some(self.phone.clone()).filter(|phone| !phone.trim().is_empty()),
        }
    }

    /// The message for `field`, if it was refused.
    pub fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

/// The message of `errors` for `field`, if it was refused (shown beside the field).
pub fn field_error<'e>(errors: &'e [FieldError], field: &str) -> Option<&'e str> {
    errors
        .iter()
        .find(|error| error.field == field)
        .map(|error| error.message.as_str())
}

/// Whether and how the event takes registrations, from the read model's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Availability {
    /// This many seats are free.
    Seats(u64),
    /// Full; new registrations queue.
    Waitlist,
    /// Full, without a waitlist.
    SoldOut,
    /// Cancelled by an ADMIN.
    Cancelled,
    /// Over.
    Ended,
}

impl Availability {
    fn of(event: &Event, stats: EventStats, now: OffsetDateTime) -> Self {
        if event.status == EventStatus::Cancelled {
            return Self::Cancelled;
        }
        if event.refuse_ended(now).is_err() {
            return Self::Ended;
        }
        // Held seats (paying) are taken until they lapse.
        let taken = stats.registered.saturating_add(stats.pending);
        match u64::from(event.max_capacity).saturating_sub(taken) {
            0 if event.waitlist_enabled => Self::Waitlist,
            0 => Self::SoldOut,
            free => Self::Seats(free),
        }
    }

    fn takes_registrations(self) -> bool {
        matches!(self, Self::Seats(_) | Self::Waitlist)
    }
}

impl std::fmt::Display for Availability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Seats(1) => f.write_str("1 seat left"),
            Self::Seats(n) => write!(f, "{n} seats left"),
            Self::Waitlist => f.write_str("Sold out: waitlist open"),
            Self::SoldOut => f.write_str("Sold out"),
            Self::Cancelled => f.write_str("This event was cancelled"),
            Self::Ended => f.write_str("This event is over"),
        }
    }
}

/// How much of the description the sharing preview (`og:description`) quotes.
const SUMMARY_DESCRIPTION_CHARS: usize = 200;

#[derive(Template)]
#[template(path = "event_page.html")]
struct EventPage<'a> {
    event: &'a Event,
    css: &'static str,
    page_url: String,
    calendar_url: String,
    when: When,
    /// When and where, then the start of the description: the sharing preview's text.
    summary: String,
    price: String,
    availability: Availability,
    open: bool,
    action: &'static str,
    form: &'a RegistrationForm,
    csrf_token: String,
    idempotency_key: String,
}

/// The page of `event` with its counters `stats`, with `form` as filled in (empty for a
/// fresh page): a new form token and a new idempotency key each time it is rendered.
pub fn render(
    ctx: &AppContext,
    event: &Event,
    stats: EventStats,
    form: &RegistrationForm,
) -> Result<String, ApiError> {
    let now = ctx.clock.now();
    let availability = Availability::of(event, stats, now);
    let when = When::of(event);
    let mut summary = format!("{} · {}", when.starts, event.venue);
    let description: Vec<&str> = event.description.split_whitespace().collect();
    if !description.is_empty() {
        summary.push_str(" · ");
        summary.extend(
            description
                .join(" ")
                .chars()
                .take(SUMMARY_DESCRIPTION_CHARS),
        );
    }
    EventPage {
        event,
        css: PAGE_CSS,
        page_url: page_url(ctx, event),
        calendar_url: format!("{}.ics", event.slug),
        when,
        summary,
        price: if event.price_cents == 0 {
            "Free".to_owned()
        } else {
            format_money(event.price_cents, &event.currency)
        },
        availability,
        open: availability.takes_registrations(),
        action: if availability == Availability::Waitlist {
            "Join the waitlist"
        } else {
            "Register"
        },
        form,
        csrf_token: FormTokens::new(&ctx.attendee_keys).issue(&event.slug, now),
        idempotency_key: uuid::Uuid::new_v4().to_string(),
    }
    .render()
    .map_err(ApiError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn event() -> Event {
        serde_json::from_value(serde_json::json!({
            "id": "0190d3a4-0000-7000-8000-000000000001",
            "owner_id": "0190d3a4-0000-7000-8000-000000000002",
            "name": "N", "slug": "n", "description": "", "venue": "V",
            "date": "2027-03-01T18:00:00Z", "end_date": "2027-03-01T21:00:00Z",
            "timezone": "Europe/Berlin", "max_capacity": 3, "price_cents": 0,
            "currency": "EUR", "status": "PUBLISHED", "waitlist_enabled": false,
            "created_at": "2027-01-01T00:00:00Z"
        }))
        .unwrap()
    }

    #[test]
    fn times_are_shown_on_the_events_wall_clock() {
        let when = When::of(&event());
        assert_eq!(when.starts, "Monday 1 March 2027, 19:00 CET");
        assert_eq!(when.ends.as_deref(), Some("22:00 CET"));
        assert_eq!(when.starts_iso, "2027-03-01T19:00:00+01:00");
        let summer = Event {
            date: datetime!(2027-07-01 18:00 UTC),
            end_date: Some(datetime!(2027-07-02 18:00 UTC)),
            ..event()
        };
        let when = When::of(&summer);
        assert_eq!(when.starts, "Thursday 1 July 2027, 20:00 CEST");
        assert_eq!(when.ends.as_deref(), Some("Friday 2 July 2027, 20:00 CEST"));
    }

    #[test]
    fn availability_counts_held_seats_and_knows_the_waitlist() {
        let now = datetime!(2027-02-01 0:00 UTC);
        let stats = |registered, pending| EventStats {
            registered,
            pending,
            ..EventStats::default()
        };
        let full = |waitlist_enabled| Event {
            waitlist_enabled,
            ..event()
        };
        assert_eq!(
            Availability::of(&event(), stats(1, 1), now),
            Availability::Seats(1)
        );
        assert_eq!(
            Availability::of(&full(false), stats(2, 1), now),
            Availability::SoldOut
        );
        assert_eq!(
            Availability::of(&full(true), stats(5, 0), now),
            Availability::Waitlist
        );
        assert_eq!(
            Availability::of(&event(), stats(0, 0), datetime!(2027-03-01 21:00 UTC)),
            Availability::Ended
        );
        let cancelled = Event {
            status: EventStatus::Cancelled,
            ..event()
        };
        assert_eq!(
            Availability::of(&cancelled, stats(0, 0), now),
            Availability::Cancelled
        );
    }
}
