//! POST /payments/webhook — the payment provider reports what happened. The body is
//! verified as received (Stripe's `Stripe-Signature`, 5-minute tolerance, any configured
//! secret: 400 `invalid_webhook` otherwise, changing nothing) and each provider event is
//! acted on once. A paid checkout confirms its registration on condition the hold is still
//! live; a payment for a hold that lapsed or a registration that was cancelled is refunded.
//! Every other event type is acknowledged (200) and ignored.

use http::StatusCode;
use lambda_http::{Body, Request};
use serde_json::json;
use time::Duration;

use crate::app::AppContext;
use crate::domain::Payment;
use crate::domain::PaymentOutcome;
use crate::http::{header, json, ApiError, ApiResult};
use crate::ports::{Claim, WebhookKind};

/// The provider's signature header.
pub const SIGNATURE_HEADER: &str = "stripe-signature";
/// An event being handled longer ago than this died with its function (timeout 10 s).
const LEASE: Duration = Duration::seconds(30);
/// Stripe retries a webhook for up to three days; remember handled ones longer.
const HANDLED_MEMORY: Duration = Duration::days(7);

/// Serves `POST /payments/webhook` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request) -> ApiResult {
    let body: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    let now = ctx.clock.now();
    let event = ctx
        .payments
        .verify_webhook(body, header(&req, SIGNATURE_HEADER), now)
        .map_err(ApiError::BadWebhook)?;

    let WebhookKind::CheckoutPaid {
        registration_id,
        payment_id,
        amount_cents,
        currency,
    } = event.kind
    else {
        return json(
            StatusCode::OK,
            &json!({ "received": true, "handled": false }),
        );
    };
    let key = format!("payments-webhook:{}", event.id);
    match ctx
        .idempotency
        .claim(&key, "", now, LEASE, HANDLED_MEMORY)
        .await?
    {
        Claim::Acquired => {}
        Claim::Completed { .. } => {
            return json(
                StatusCode::OK,
                &json!({ "received": true, "handled": true }),
            )
        }
        Claim::InFlight { .. } => return Err(ApiError::RequestInProgress),
    }
    let payment = Payment {
        payment_id,
        amount_cents,
        currency,
        paid_at: now,
        refunded_cents: 0,
        refund_ids: Vec::new(),
    };
    let recorded = ctx
        .payment_records
        .record_payment(registration_id, &payment, now)
        .await;
    let (outcome, outbox) = match recorded {
        Ok(recorded) => recorded,
        Err(error) => {
            ctx.idempotency.release(&key).await?;
            return Err(error.into());
        }
    };
    ctx.publish(&outbox).await;
    ctx.idempotency.complete(&key, "handled").await?;
    let outcome = match outcome {
        PaymentOutcome::Confirmed(_) => "confirmed",
        PaymentOutcome::Late(_) => "refunded",
        PaymentOutcome::AlreadyRecorded => "already_recorded",
    };
    crate::telemetry::payment(outcome);
    json(
        StatusCode::OK,
        &json!({ "received": true, "handled": true, "outcome": outcome }),
    )
}
