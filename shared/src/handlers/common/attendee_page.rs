//! The attendee's page: `GET /registrations/{id}?token=…` as a browser asks for it
//! (`Accept: text/html`). The event on its own clock, the registration's status (with the
//! checkout while a seat is held for payment), the QR ticket inline once issued and a link
//! to the event's calendar file, and two forms posted to the page's own URL
//! (`POST /registrations/{id}`): change the name or phone, and cancel (a `<details>`
//! element asks for the confirmation without script).
//! HTML from an askama template, which escapes every value it writes; nothing on the page
//! runs script.
//!
//! The page's URL holds the manage token, so it is `private, no-store` and sends no
//! `Referer` anywhere (`Referrer-Policy: no-referrer`, set here; the route entrance adds
//! the other security headers and keeps this policy).

use askama::Template;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::header::REFERRER_POLICY;
use http::{HeaderValue, StatusCode};

use super::event_page::{field_error, page_url};
use crate::app::AppContext;
use crate::domain::calendar::{local_time, When, DAY_AND_TIME};
use crate::domain::{
    DetailsChange, Event, FieldError, Registration, RegistrationId, RegistrationStatus,
};
use crate::http::form::{Form, FormTokens};
use crate::http::html::{private_html, PAGE_CSS};
use crate::http::{ApiError, ApiResult};
use crate::tickets::ticket_blob_key;

/// The page's form fields, as the page writes them and the post reads them. The token,
/// name and phone are the event page's fields (one `name_and_phone.html` include writes
/// both forms' inputs); here the token is issued for [`super::form_subject`].
pub mod fields {
    pub use crate::handlers::common::event_page::fields::{CSRF_TOKEN, FULL_NAME, PHONE};

    /// What the pressed button asks for: [`CANCEL`] or [`UPDATE`].
    pub const ACTION: &str = "action";
    /// The button inside the opened "Cancel my registration": the confirmation.
    pub const CANCEL: &str = "cancel";
    /// The details form's button.
    pub const UPDATE: &str = "update";
}

/// The details form as the page shows it: the registration's details, or what the
/// attendee typed with what was wrong with it.
#[derive(Debug, Clone, Default)]
pub struct DetailsForm {
    /// As stored or typed.
    pub full_name: String,
    /// As stored or typed; empty is none.
    pub phone: String,
    /// Shown beside their fields.
    pub errors: Vec<FieldError>,
}

impl DetailsForm {
    /// The details `registration` has now.
    pub fn of(registration: &Registration) -> Self {
        Self {
            full_name: registration.full_name.clone(),
            phone: registration.phone.clone().unwrap_or_default(),
            errors: Vec::new(),
        }
    }

    /// The details of a posted form (absent ones empty).
    pub fn from_form(form: &Form) -> Self {
        let field = |name| form.get(name).unwrap_or_default().to_owned();
        Self {
            full_name: field(fields::FULL_NAME),
            phone: field(fields::PHONE),
            errors: Vec::new(),
        }
    }

    /// The change `PUT /registrations/{id}` would have received.
    pub fn change(&self) -> DetailsChange {
        DetailsChange {
            full_name: self.full_name.clone(),
            phone: Some(self.phone.clone()).filter(|phone| !phone.trim().is_empty()),
            email: None,
        }
    }

    /// The message for `field`, if it was refused.
    pub fn error(&self, field: &str) -> Option<&str> {
        field_error(&self.errors, field)
    }
}

/// What the page's form token is issued for: `registrations/<id>`, which no event's
/// slug can be (a slug holds no `/`), so an event page's token is no use here.
pub fn form_subject(id: RegistrationId) -> String {
    format!("registrations/{id}")
}

/// The event `registration` is for; 404 `not_found` if it is gone.
pub async fn event_of(ctx: &AppContext, registration: &Registration) -> Result<Event, ApiError> {
    ctx.events
        .event(registration.event_id)
        .await?
        .ok_or(ApiError::NotFound("event"))
}

/// The QR ticket of `registration` as the tickets worker stored it (a PNG), if the
/// registration holds a seat and its ticket is recorded as issued: `None` before that
/// (never, for a cancelled event) and once the seat is given up. 503 when the blob store
/// cannot be read.
pub async fn issued_ticket_png(
    ctx: &AppContext,
    registration: &Registration,
) -> Result<Option<Vec<u8>>, ApiError> {
    let holds_seat = matches!(
        registration.status,
        RegistrationStatus::Confirmed | RegistrationStatus::CheckedIn
    );
    // The PNG is written before the ticket is recorded (so a retried issue rewrites it):
    // the record, not the file, says a ticket exists.
    if !holds_seat || ctx.registrations.ticket(registration.id).await?.is_none() {
        return Ok(None);
    }
    ctx.blobs
        .get(&ticket_blob_key(registration))
        .await
        .map_err(ApiError::unavailable)
}

/// What the page says about where the registration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    PendingPayment,
    Confirmed,
    Waitlisted,
    /// With the local time of the first scan.
    CheckedIn(String),
    Cancelled,
}

impl Status {
    fn of(registration: &Registration, event: &Event) -> Self {
        match registration.status {
            RegistrationStatus::PendingPayment => Self::PendingPayment,
            RegistrationStatus::Confirmed => Self::Confirmed,
            RegistrationStatus::Waitlisted => Self::Waitlisted,
            RegistrationStatus::CheckedIn => Self::CheckedIn(
                registration
                    .checked_in_at
                    .map(|at| {
                        local_time(at, event.timezone)
                            .format(DAY_AND_TIME)
                            .to_string()
                    })
                    .unwrap_or_default(),
            ),
            RegistrationStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PendingPayment => f.write_str("Pending payment"),
            Self::Confirmed => f.write_str("Confirmed"),
            Self::Waitlisted => f.write_str("On the waitlist"),
            Self::CheckedIn(at) if at.is_empty() => f.write_str("Checked in"),
            Self::CheckedIn(at) => write!(f, "Checked in ({at})"),
            Self::Cancelled => f.write_str("Cancelled"),
        }
    }
}

#[derive(Template)]
#[template(path = "attendee_page.html")]
struct AttendeePage<'a> {
    css: &'static str,
    event: &'a Event,
    registration: &'a Registration,
    when: When,
    status: Status,
    /// While the seat is held for payment and the checkout exists.
    checkout_url: Option<&'a str>,
    hold_expires: String,
    hold_expires_iso: String,
    /// The ticket's PNG as a `data:` URL (RFC 2397), which the pages' policy admits.
    ticket: Option<String>,
    page_url: String,
    calendar_url: String,
    /// Shown above everything: why the last post did not cancel.
    notice: Option<&'a str>,
    /// Whether the registration still holds or awaits a seat (the forms show).
    cancellable: bool,
    /// The details form (`form`, as `name_and_phone.html` reads it).
    form: &'a DetailsForm,
    csrf_token: String,
}

/// The page of `registration` for the event `event`, answered with `status`,
/// `private, no-store` and `Referrer-Policy: no-referrer` (see the module docs); `notice`
/// says why a form post did nothing, `details` is the details form as posted (`None`: the
/// registration's details).
pub async fn respond(
    ctx: &AppContext,
    registration: &Registration,
    event: &Event,
    status: StatusCode,
    notice: Option<&str>,
    details: Option<&DetailsForm>,
) -> ApiResult {
    let current = DetailsForm::of(registration);
    let ticket = issued_ticket_png(ctx, registration)
        .await?
        .map(|png| format!("data:image/png;base64,{}", STANDARD.encode(png)));
    let hold = registration
        .hold
        .as_ref()
        .filter(|_| registration.status == RegistrationStatus::PendingPayment);
    let hold_expires = hold.map(|hold| local_time(hold.expires_at, event.timezone));
    let page_url = page_url(ctx, event);
    let html = AttendeePage {
        css: PAGE_CSS,
        event,
        registration,
        when: When::of(event),
        status: Status::of(registration, event),
        checkout_url: hold.and_then(|hold| hold.checkout_url.as_deref()),
        hold_expires: hold_expires
            .map(|at| at.format(DAY_AND_TIME).to_string())
            .unwrap_or_default(),
        hold_expires_iso: hold_expires.map(|at| at.to_rfc3339()).unwrap_or_default(),
        ticket,
        calendar_url: format!("{page_url}.ics"),
        page_url,
        notice,
        cancellable: matches!(
            registration.status,
            RegistrationStatus::PendingPayment
                | RegistrationStatus::Confirmed
                | RegistrationStatus::Waitlisted
        ),
        form: details.unwrap_or(&current),
        csrf_token: FormTokens::new(&ctx.attendee_keys)
            .issue(&form_subject(registration.id), ctx.clock.now()),
    }
    .render()
    .map_err(ApiError::internal)?;
    let mut response = private_html(status, html)?;
    response
        .headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_in_is_shown_on_the_events_clock() {
        let event: Event = serde_json::from_value(serde_json::json!({
            "id": "0190d3a4-0000-7000-8000-000000000001",
            "owner_id": "0190d3a4-0000-7000-8000-000000000002",
            "name": "N", "slug": "n", "description": "", "venue": "V",
            "date": "2027-03-01T18:00:00Z", "end_date": null, "timezone": "Europe/Berlin",
            "max_capacity": 3,
            "price_cents": 0, "currency": "EUR", "status": "PUBLISHED",
            "waitlist_enabled": false, "created_at": "2027-01-01T00:00:00Z"
        }))
        .unwrap();
        let registration: Registration = serde_json::from_value(serde_json::json!({
            "id": "0190d3a4-0000-7000-8000-000000000003",
            "event_id": "0190d3a4-0000-7000-8000-000000000001",
            "email": "a@example.org", "full_name": "A", "phone": null,
            "status": "CHECKED_IN", "created_at": "2027-01-01T00:00:00Z",
            "checked_in_at": "2027-03-01T17:55:00Z"
        }))
        .unwrap();
        assert_eq!(
            Status::of(&registration, &event).to_string(),
            "Checked in (Monday 1 March 2027, 18:55 CET)"
        );
    }
}
