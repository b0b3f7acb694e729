//! DELETE /registrations/{id} — cancels; a released seat goes to the first waitlisted
//! registration in the same transaction (confirmed on a free event, offered on a paid one;
//! see `RegistrationStore::cancel`). A paid registration is refunded within the event's
//! refund policy (an ADMIN may always refund).

use http::StatusCode;
use lambda_http::Request;

use super::Caller;
use crate::app::AppContext;
use crate::domain::RegistrationId;
use crate::handlers::common::attendee_page::event_of;
use crate::http::{json, path, ApiResult};
use crate::services::registrations;

/// Serves `DELETE /registrations/{id}` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let id: RegistrationId = path(&req)?;
    let registration = caller.registration(ctx, id).await?;
    let event = event_of(ctx, &registration).await?;

    let cancelled = registrations::cancel(ctx, &registration, &event, caller.is_admin()).await?;

    json(StatusCode::OK, &cancelled)
}
