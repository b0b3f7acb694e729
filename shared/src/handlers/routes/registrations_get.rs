//! GET /registrations/{id} — for the attendee (manage token), the event's owner, or ADMIN.
//! JSON by default; a browser (an `Accept` that prefers `text/html`, as a followed link's
//! does) gets the attendee's page (`handlers::common::attendee_page`).

use http::header::VARY;
use http::{HeaderValue, StatusCode};
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::RegistrationId;
use crate::handlers::common::attendee_page;
use crate::http::{json, path, preferred_media_type, ApiResult};

/// Serves `GET /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path(&req)?;
    let registration = caller.registration(ctx, id).await?;
    let mut response =
        if preferred_media_type(&req, &["application/json", "text/html"]) == Some("text/html") {
            let event = attendee_page::event_of(ctx, &registration).await?;
            attendee_page::respond(ctx, &registration, &event, StatusCode::OK, None, None).await?
        } else {
            json(StatusCode::OK, &registration)?
        };
    // One URL, two representations: no cache may answer one with the other.
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("accept"));
    Ok(response)
}
