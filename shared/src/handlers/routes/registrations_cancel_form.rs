//! POST /registrations/{id}?token=… — the attendee page's cancel form
//! (`application/x-www-form-urlencoded`: `confirm=yes` from the confirming button and the
//! hidden `csrf_token`), posted to the page's own URL, for the same callers as the page.
//! The same cancellation as `DELETE /registrations/{id}` ([`seats::cancel`]), then a 303
//! back to the page, which shows it cancelled.
//!
//! - A post from another site is 403 `cross_site_request`. The page is sent with
//!   `Referrer-Policy: no-referrer`, so browsers post it with `Origin: null`:
//!   `Sec-Fetch-Site` decides ([`refuse_cross_site_no_referrer`]). The manage token in the
//!   URL is a secret another site does not have either.
//! - A missing, forged or expired form token (403) or a post without the confirmation
//!   (422): the page again with a notice and a fresh token; nothing cancelled.
//! - A registration that holds nothing any more (cancelled, checked in): the page again
//!   with the reason (409). A second click of the button lands here too.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::RegistrationId;
use crate::handlers::common::attendee_page::{self, event_of, fields, form_subject};
use crate::handlers::common::seats;
use crate::http::form::{refuse_cross_site_no_referrer, Form, FormTokens};
use crate::http::html::see_other;
use crate::http::{path_id, ApiResult};

/// Serves `POST /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path_id(&req, "id", "registration")?;
    refuse_cross_site_no_referrer(&req, &ctx.public_url)?;
    let registration = caller.registration(ctx, id).await?;
    let event = event_of(ctx, &registration).await?;
    let posted = Form::from_request(&req);

    let token = posted.get(fields::CSRF_TOKEN).unwrap_or_default();
    let (status, notice) =
        if !FormTokens::new(&ctx.attendee_keys).verify(&form_subject(id), token, ctx.clock.now()) {
            (
                StatusCode::FORBIDDEN,
                "This form has expired. Please try again.".to_owned(),
            )
        } else if posted.get(fields::CONFIRM) != Some("yes") {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "Please confirm the cancellation.".to_owned(),
            )
        } else {
            match seats::cancel(ctx, &registration, &event, caller.is_admin()).await {
                Ok(_) => return see_other(&ctx.manage_url(id)),
                Err(error) if error.status() == StatusCode::CONFLICT => {
                    (error.status(), format!("{error}."))
                }
                Err(error) => return Err(error),
            }
        };
    attendee_page::respond(ctx, &registration, &event, status, Some(&notice)).await
}
