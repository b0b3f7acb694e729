//! DELETE /registrations/{id} — cancels; a released seat goes to the first waitlisted
//! registration in the same transaction (see `Store::cancel`).

use http::StatusCode;
use lambda_http::Request;

use super::access::registration_for_caller;
use crate::app::AppContext;
use crate::http::{json, ApiResult};

pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let registration = registration_for_caller(ctx, &req).await?;

    let cancellation = ctx.store.cancel(registration.id, ctx.clock.now()).await?;
    ctx.publish(&cancellation.events).await;

    json(StatusCode::OK, &cancellation.cancelled)
}
