//! POST /e/{slug} — the event page's registration form (`application/x-www-form-urlencoded`:
//! `email`, `full_name`, `phone`, and the hidden `csrf_token` and `idempotency_key`).
//! The same domain call as `POST /events/{id}/registrations`
//! ([`registrations::register`]); on success a 303 to the attendee's page (`/registrations/{id}
//! ?token=…`), or on a paid event to the provider's checkout, which returns there.
//!
//! - A post from another site is 403 `cross_site_request`; a missing, forged or expired
//!   form token re-renders the form (403) with a fresh one and the input kept — see
//!   [`crate::http::form`] for the CSRF design.
//! - Refused input (422), a duplicate email (409), a full event, an event that closed:
//!   the form again, with the message beside its field or above the form, input kept.
//! - The hidden key makes a double submit register once: the second post gets the first
//!   one's answer (the same 303). The page is shared by the CDN, so one key reaches many
//!   visitors; the key is taken per email address (which registers once per event anyway).

use http::StatusCode;
use lambda_http::Request;
use sha2::{Digest, Sha256};

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DomainError, Event, FieldError, Registration};
use crate::handlers::common::event_page::{self, fields, public_event, RegistrationForm};
use crate::handlers::common::idempotency::idempotent_with_key;
use crate::http::form::{refuse_cross_site, Form, FormTokens};
use crate::http::html::{private_html, see_other};
use crate::http::{path, ApiError, ApiResult, EventSlug};
use crate::ports::StoreError;
use crate::services::{registrations, ServiceError};

/// Serves `POST /e/{slug}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let EventSlug(slug) = path(&req)?;
    refuse_cross_site(&req, &ctx.public_url)?;
    let posted = Form::from_request(&req);
    let mut form = RegistrationForm::from_form(&posted);
    let event = public_event(ctx, &slug).await?;

    let token = posted.get(fields::CSRF_TOKEN).unwrap_or_default();
    if !FormTokens::new(&ctx.attendee_keys).verify(&event.slug, token, ctx.clock.now()) {
        form.notice =
            Some("This form has expired. Please check your details and send it again.".into());
        return form_again(ctx, &event, &form, StatusCode::FORBIDDEN).await;
    }
    let key = posted
        .get(fields::IDEMPOTENCY_KEY)
        .map(|key| per_visitor(key, &form.email));
    idempotent_with_key(ctx, &req, key.as_deref(), || submit(ctx, &event, form)).await
}

/// The form's key taken per email address: `<key>:<16 hex digits of SHA-256(email)>`
/// (the address trimmed and lower-cased, as typed; the store's records never hold it).
fn per_visitor(key: &str, email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_lowercase().as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{key}:{hex}")
}

async fn submit(ctx: &AppContext, event: &Event, mut form: RegistrationForm) -> ApiResult {
    let error = match registrations::register(ctx, event.id, form.registration()).await {
        Ok(registration) => return see_other(&next_page(ctx, &registration)),
        // The event is gone (a draft again, say): nothing to show a form on.
        Err(error @ ServiceError::NotFound(_)) => return Err(error.into()),
        Err(error) => error,
    };
    match &error {
        ServiceError::Invalid(DomainError::Invalid(errors)) => form.errors.clone_from(errors),
        ServiceError::Store(StoreError::DuplicateRegistration) => form.errors.push(FieldError {
            field: fields::EMAIL,
            message: "is already registered for this event".into(),
        }),
        _ => form.notice = Some(notice(&error)),
    }
    let status = ApiError::from(error).status();
    form_again(ctx, event, &form, status).await
}

/// What a visitor is told when their registration was refused for no field's fault.
fn notice(error: &ServiceError) -> String {
    match error {
        ServiceError::Store(StoreError::EventFull) => "Sorry, the last seat was just taken.".into(),
        ServiceError::Refused(_) => "This event no longer takes registrations.".into(),
        error if error.is_failure() => {
            "Something went wrong on our side; nothing was registered. Please try again.".into()
        }
        error => format!("{error}."),
    }
}

/// Where a registered visitor goes: a held seat's checkout (it returns to the attendee's
/// page), else the attendee's page itself.
fn next_page(ctx: &AppContext, registration: &Registration) -> String {
    registration
        .hold
        .as_ref()
        .and_then(|hold| hold.checkout_url.clone())
        .unwrap_or_else(|| ctx.manage_url(registration.id))
}

/// The page again with `form` as posted, answered with `status`.
async fn form_again(
    ctx: &AppContext,
    event: &Event,
    form: &RegistrationForm,
    status: StatusCode,
) -> ApiResult {
    let stats = ctx.read_model.stats(event.id).await?;
    private_html(status, event_page::render(ctx, event, stats, form)?)
}
