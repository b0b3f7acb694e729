//! POST /payments/webhook — the payment provider reports what happened. The body is
//! verified as received (Stripe's `Stripe-Signature`, 5-minute tolerance, any configured
//! secret: 400 `invalid_webhook` otherwise, changing nothing) and each provider event is
//! acted on once ([`crate::services::payments`]): a paid checkout confirms its
//! registration on condition the hold is still live; a payment for a hold that lapsed or
//! a registration that was cancelled is refunded. Every other event type is acknowledged
//! (200) and ignored. Answers `{"received": true, "handled", "outcome"?}`.

use http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::json;

use super::Caller;
use crate::app::AppContext;
use crate::http::{header, json, ApiError, ApiResult};
use crate::services::payments::{handle_provider_event, Handled};

/// The provider's signature header.
pub const SIGNATURE_HEADER: &str = "stripe-signature";

/// Serves `POST /payments/webhook` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, _caller: Caller) -> ApiResult {
    let body: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    let event = ctx
        .payments
        .verify_webhook(body, header(&req, SIGNATURE_HEADER), ctx.clock.now())
        .map_err(ApiError::BadWebhook)?;

    let handled = handle_provider_event(ctx, event).await?;

    let mut answer = json!({ "received": true, "handled": handled != Handled::Ignored });
    if let Some(outcome) = handled.outcome() {
        answer["outcome"] = json!(outcome);
    }
    json(StatusCode::OK, &answer)
}
