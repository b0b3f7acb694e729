//! POST /registrations/{id}?token=… — the attendee page's forms
//! (`application/x-www-form-urlencoded`, the hidden `csrf_token` and the pressed button's
//! `action`), posted to the page's own URL, for the same callers as the page:
//!
//! - `action=update` with `full_name` and `phone`: the same change as
//!   `PUT /registrations/{id}` ([`registrations::update_details`]);
//! - `action=cancel`, from the button inside the opened "Cancel my registration" (the
//!   confirmation): the same cancellation as `DELETE /registrations/{id}`
//!   ([`registrations::cancel`]).
//!
//! Done: a 303 back to the page. Otherwise the page again, nothing changed:
//!
//! - a post from another site is 403 `cross_site_request`. The page is sent with
//!   `Referrer-Policy: no-referrer`, so browsers post it with `Origin: null`:
//!   `Sec-Fetch-Site` decides ([`refuse_cross_site_no_referrer`]). The manage token in the
//!   URL is a secret another site does not have either;
//! - a missing, forged or expired form token: 403, with a notice and a fresh token;
//! - no known `action` (nothing confirmed): 422 with a notice;
//! - invalid details: 422, each message beside its field, the input kept;
//! - a registration that holds nothing any more (cancelled, checked in): 409 with the
//!   reason. A second click of the cancel button lands here too.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DomainError, RegistrationId};
use crate::handlers::common::attendee_page::{self, event_of, fields, form_subject, DetailsForm};
use crate::http::form::{refuse_cross_site_no_referrer, Form, FormTokens};
use crate::http::html::see_other;
use crate::http::{path, ApiResult};
use crate::services::{registrations, ServiceError};

/// Serves `POST /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path(&req)?;
    refuse_cross_site_no_referrer(&req, &ctx.public_url)?;
    let registration = caller.registration(ctx, id).await?;
    let event = event_of(ctx, &registration).await?;
    let posted = Form::from_request(&req);
    let mut details = None;

    let token = posted.get(fields::CSRF_TOKEN).unwrap_or_default();
    let (status, notice) = 'refused: {
        if !FormTokens::new(&ctx.attendee_keys).verify(&form_subject(id), token, ctx.clock.now()) {
            break 'refused (
                StatusCode::FORBIDDEN,
                "This form has expired. Please try again.".to_owned(),
            );
        }
        let outcome = match posted.get(fields::ACTION) {
            Some(fields::CANCEL) => {
                registrations::cancel(ctx, &registration, &event, caller.is_admin()).await
            }
            Some(fields::UPDATE) => {
                let typed = DetailsForm::from_form(&posted);
                let change = typed.change();
                details = Some(typed);
                registrations::update_details(ctx, &registration, change).await
            }
            _ => {
                break 'refused (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Please confirm what you want to do.".to_owned(),
                )
            }
        };
        match outcome {
            Ok(_) => return see_other(&ctx.manage_url(id)),
            Err(ServiceError::Invalid(DomainError::Invalid(errors))) => {
                if let Some(details) = &mut details {
                    details.errors = errors;
                }
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "Please check the highlighted fields.".to_owned(),
                )
            }
            Err(error @ ServiceError::Refused(_)) => (StatusCode::CONFLICT, format!("{error}.")),
            Err(error) => return Err(error.into()),
        }
    };
    attendee_page::respond(
        ctx,
        &registration,
        &event,
        status,
        Some(&notice),
        details.as_ref(),
    )
    .await
}
