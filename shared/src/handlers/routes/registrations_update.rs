//! PUT /registrations/{id} — the attendee (manage token), the event's owner or an ADMIN
//! changes `full_name` and `phone`; the email stays (it is the identity the uniqueness
//! guard holds). 422 naming each invalid field; 409 `registration_cancelled` for a
//! cancelled registration. Emits RegistrationUpdated.

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{DetailsChange, RegistrationId};
use crate::http::{json, json_body, path, ApiResult};
use crate::services::registrations;

/// Serves `PUT /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path(&req)?;
    let change: DetailsChange = json_body(&req)?;
    let current = caller.registration(ctx, id).await?;

    let stored = registrations::update_details(ctx, &current, change).await?;

    json(StatusCode::OK, &stored)
}
