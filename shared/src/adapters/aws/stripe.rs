//! [`Payments`] on Stripe's API: Checkout Sessions (`mode=payment`), their expiry, and
//! Refunds, as form-encoded `POST`s with an `Idempotency-Key` on every create, plus
//! webhook verification ([`crate::payments`]). Three endpoints over reqwest rather than
//! async-stripe: that crate generates the whole API, which costs the Lambda binaries
//! minutes of build and megabytes for what is three requests here.
//!
//! Stripe constrains a session's `expires_at` to 30 minutes – 24 hours ahead: a shorter
//! hold still lapses at its own time (the expirer releases the seat and expires the
//! session; a payment racing that is refunded as late), a longer one is capped.

use async_trait::async_trait;
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::domain::Checkout;
use crate::payments::WebhookVerifier;
use crate::ports::{CheckoutRequest, Payments, PaymentsError, WebhookError, WebhookEvent};

/// Stripe's public API.
pub const STRIPE_API: &str = "https://api.stripe.com";
/// Stripe's bounds on a Checkout Session's `expires_at`, from now (a minute of margin on
/// the lower one, for the request's own time).
const SESSION_MIN: Duration = Duration::minutes(31);
const SESSION_MAX: Duration = Duration::hours(24);

/// Stripe, with one secret key and the webhook secrets.
pub struct StripePayments {
    http: reqwest::Client,
    api_base: String,
    secret_key: String,
    webhooks: WebhookVerifier,
}

/// Stripe's error body: `{"error": {"type": …, "code": …, "message": …}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: StripeError,
}

#[derive(Debug, Deserialize)]
struct StripeError {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

fn failed(e: impl std::error::Error + Send + Sync + 'static) -> PaymentsError {
    PaymentsError(Box::new(e))
}

impl StripePayments {
    /// Stripe at `api_base` ([`STRIPE_API`], or a stand-in in tests) with `secret_key`
    /// (`sk_…`), accepting webhooks signed with any of `webhook_secrets`.
    pub fn new(api_base: &str, secret_key: String, webhook_secrets: Vec<String>) -> Self {
        Self {
            http: reqwest::Client::new(),
            api_base: api_base.trim_end_matches('/').to_owned(),
            secret_key,
            webhooks: WebhookVerifier::new(webhook_secrets),
        }
    }

    /// `POST`s `form` to `path`; the created object, or Stripe's error.
    async fn post(
        &self,
        path: &str,
        form: &[(String, String)],
        idempotency_key: Option<&str>,
    ) -> Result<Result<Created, StripeError>, PaymentsError> {
        let mut request = self
            .http
            .post(format!("{}{path}", self.api_base))
            .bearer_auth(&self.secret_key)
            .form(form);
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.map_err(failed)?;
        let status = response.status();
        let body = response.bytes().await.map_err(failed)?;
        if status.is_success() {
            return serde_json::from_slice(&body).map(Ok).map_err(failed);
        }
        let error: ErrorBody = serde_json::from_slice(&body).map_err(failed)?;
        Ok(Err(error.error))
    }
}

fn refused(error: StripeError) -> PaymentsError {
    PaymentsError(
        format!(
            "Stripe refused: {} ({})",
            error.message.unwrap_or_default(),
            error.kind
        )
        .into(),
    )
}

fn field(name: &str, value: impl ToString) -> (String, String) {
    (name.to_owned(), value.to_string())
}

#[async_trait]
impl Payments for StripePayments {
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, PaymentsError> {
        let now = OffsetDateTime::now_utc();
        let expires_at = request
            .expires_at
            .clamp(now + SESSION_MIN, now + SESSION_MAX);
        let form = [
            field("mode", "payment"),
            field("client_reference_id", request.registration_id),
            field("customer_email", &request.customer_email),
            field("expires_at", expires_at.unix_timestamp()),
            field("success_url", &request.return_url),
            field("cancel_url", &request.return_url),
            field("line_items[0][quantity]", 1),
            field(
                "line_items[0][price_data][currency]",
                request.currency.to_ascii_lowercase(),
            ),
            field(
                "line_items[0][price_data][unit_amount]",
                request.amount_cents,
            ),
            field(
                "line_items[0][price_data][product_data][name]",
                &request.description,
            ),
            field("metadata[registration_id]", request.registration_id),
            field("metadata[event_id]", request.event_id),
            field(
                "payment_intent_data[metadata][registration_id]",
                request.registration_id,
            ),
        ];
        // One checkout per hold: a retried request (or a redelivered offer) gets the same.
        let key = format!(
            "checkout-{}-{}",
            request.registration_id,
            request.expires_at.unix_timestamp()
        );
        let created = self
            .post("/v1/checkout/sessions", &form, Some(&key))
            .await?
            .map_err(refused)?;
        let url = created
            .url
            .ok_or_else(|| PaymentsError("Stripe returned a session without a url".into()))?;
        Ok(Checkout {
            id: created.id,
            url,
        })
    }

    async fn expire_checkout(&self, checkout_id: &str) -> Result<(), PaymentsError> {
        let path = format!("/v1/checkout/sessions/{checkout_id}/expire");
        match self.post(&path, &[], None).await? {
            Ok(_) => Ok(()),
            // Stripe refuses to expire a session that is no longer open (paid, or expired
            // already): closed is what was asked for.
            Err(error) if error.kind == "invalid_request_error" => Ok(()),
            Err(error) => Err(refused(error)),
        }
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount_cents: u64,
        idempotency_key: &str,
    ) -> Result<String, PaymentsError> {
        let form = [
            field("payment_intent", payment_id),
            field("amount", amount_cents),
        ];
        let created = self
            .post("/v1/refunds", &form, Some(idempotency_key))
            .await?
            .map_err(refused)?;
        Ok(created.id)
    }

    fn verify_webhook(
        &self,
        body: &[u8],
        signature: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<WebhookEvent, WebhookError> {
        self.webhooks.verify(body, signature, now)
    }
}

/// Where no payment provider is configured (functions that never take money): a call is
/// a deployment error, reported rather than ignored.
pub struct NoPayments;

fn not_configured() -> PaymentsError {
    PaymentsError("no payment provider is configured for this function".into())
}

#[async_trait]
impl Payments for NoPayments {
    async fn create_checkout(&self, _: &CheckoutRequest) -> Result<Checkout, PaymentsError> {
        Err(not_configured())
    }

    async fn expire_checkout(&self, _: &str) -> Result<(), PaymentsError> {
        Err(not_configured())
    }

    async fn refund(&self, _: &str, _: u64, _: &str) -> Result<String, PaymentsError> {
        Err(not_configured())
    }

    fn verify_webhook(
        &self,
        _: &[u8],
        _: Option<&str>,
        _: OffsetDateTime,
    ) -> Result<WebhookEvent, WebhookError> {
        Err(WebhookError::BadSignature)
    }
}
