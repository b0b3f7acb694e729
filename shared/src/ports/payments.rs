//! The payment provider: Stripe in AWS, the dev server's own checkout page in embedded
//! mode. Checkouts, their expiry, refunds, and verified webhooks.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::BoxError;
use crate::domain::{Checkout, EventId, RegistrationId};

/// What a checkout charges, for which registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Whose hold it pays (Stripe `client_reference_id`); also the idempotency key's root,
    /// so a retried request never opens two checkouts.
    pub registration_id: RegistrationId,
    /// The event (metadata).
    pub event_id: EventId,
    /// What the attendee sees they pay for.
    pub description: String,
    /// In `currency`'s minor unit.
    pub amount_cents: u64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// Prefilled on the checkout.
    pub customer_email: String,
    /// When the hold lapses; the provider may keep the page open longer (Stripe: at least
    /// 30 minutes), and a payment after the hold lapsed is refunded.
    pub expires_at: OffsetDateTime,
    /// Where the attendee lands after paying, or giving up.
    pub return_url: String,
}

/// A payment webhook as the provider sent it, verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEvent {
    /// The provider's event id (`evt_…`): each is acted on once.
    pub id: String,
    /// What happened.
    pub kind: WebhookKind,
}

/// The webhook events evreg acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookKind {
    /// A checkout was paid (Stripe `checkout.session.completed` with `payment_status`
    /// `paid`).
    CheckoutPaid {
        /// From the checkout's `client_reference_id`.
        registration_id: RegistrationId,
        /// The provider's payment (PaymentIntent) id.
        payment_id: String,
        /// In `currency`'s minor unit.
        amount_cents: u64,
        /// ISO 4217 code, upper case.
        currency: String,
    },
    /// Anything else: acknowledged and ignored.
    Other(String),
}

/// Why a webhook was refused (a 400; nothing changes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No signature header.
    #[error("the webhook is not signed")]
    Unsigned,
    /// The signature header cannot be read.
    #[error("the signature header is malformed")]
    MalformedSignature,
    /// The signed timestamp is outside the tolerance (a replay, or a skewed clock).
    #[error("the webhook's timestamp is outside the tolerance")]
    Stale,
    /// No signature matches the body under any configured secret.
    #[error("the webhook's signature does not match")]
    BadSignature,
    /// Signed, but not an event evreg can read.
    #[error("the webhook body is not a provider event: {0}")]
    MalformedBody(String),
}

/// A provider call failed (its cause is the source).
#[derive(Debug, thiserror::Error)]
#[error("the payment provider failed")]
pub struct PaymentsError(#[source] pub BoxError);

/// The payment provider.
#[async_trait]
pub trait Payments: Send + Sync {
    /// Opens a checkout for `request`; the same registration and expiry give the same
    /// checkout however often this is retried (the provider's idempotency).
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, PaymentsError>;

    /// Closes the checkout `checkout_id` so it can no longer be paid; one that is already
    /// closed (paid or expired) is fine.
    async fn expire_checkout(&self, checkout_id: &str) -> Result<(), PaymentsError>;

    /// Refunds `amount_cents` of the payment `payment_id` once per `idempotency_key`;
    /// returns the provider's refund id (the same one for a repeated key).
    async fn refund(
        &self,
        payment_id: &str,
        amount_cents: u64,
        idempotency_key: &str,
    ) -> Result<String, PaymentsError>;

    /// Verifies a webhook's `signature` (the `Stripe-Signature` header) over `body`, the
    /// raw bytes as received, at `now`, and reads it.
    fn verify_webhook(
        &self,
        body: &[u8],
        signature: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<WebhookEvent, WebhookError>;
}
