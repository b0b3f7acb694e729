//! [`Payments`] for embedded mode: the dev server's own checkout page stands in for
//! Stripe Checkout. A checkout is a page at `/_dev/checkout/<id>` with "Pay" and "Fail";
//! paying builds the `checkout.session.completed` event Stripe would send, signed with the
//! webhook secret exactly as Stripe signs ([`crate::payments::signature`]), for the dev
//! server to post to `/payments/webhook` — so the whole paid journey runs on one laptop.
//! Checkouts and refunds live in memory: after a restart an old checkout page is gone
//! and its hold simply lapses.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::json;
use time::OffsetDateTime;

use crate::domain::Checkout;
use crate::payments::{signature, WebhookVerifier};
use crate::ports::{CheckoutRequest, Payments, PaymentsError, WebhookError, WebhookEvent};

/// Where a dev checkout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutState {
    /// Payable.
    Open,
    /// Paid.
    Complete,
    /// Closed unpaid.
    Expired,
}

/// A dev checkout: what it charges, and its state.
#[derive(Debug, Clone)]
pub struct DevCheckout {
    /// What was asked for.
    pub request: CheckoutRequest,
    /// Where it stands.
    pub state: CheckoutState,
}

/// A refund the dev provider made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevRefund {
    /// Its id (`re_dev_<n>`).
    pub id: String,
    /// The payment refunded.
    pub payment_id: String,
    /// In the payment's minor unit.
    pub amount_cents: u64,
}

/// The embedded payment provider.
pub struct DevPayments {
    public_url: String,
    webhook_secret: String,
    webhooks: WebhookVerifier,
    checkouts: Mutex<HashMap<String, DevCheckout>>,
    refunds: Mutex<HashMap<String, DevRefund>>,
}

fn poisoned() -> PaymentsError {
    PaymentsError("dev payments state poisoned".into())
}

impl DevPayments {
    /// Checkout pages under `public_url`; webhooks signed with `webhook_secret`.
    pub fn new(public_url: &str, webhook_secret: String) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            webhooks: WebhookVerifier::new(vec![webhook_secret.clone()]),
            webhook_secret,
            checkouts: Mutex::default(),
            refunds: Mutex::default(),
        }
    }

    /// The checkout `id`, if this process opened it.
    pub fn checkout(&self, id: &str) -> Option<DevCheckout> {
        self.checkouts.lock().ok()?.get(id).cloned()
    }

    /// Every refund made so far, in no particular order.
    pub fn refunds(&self) -> Vec<DevRefund> {
        self.refunds
            .lock()
            .map(|refunds| refunds.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Pays the open checkout `id` at `now`: the webhook body Stripe would send and its
    /// `Stripe-Signature` header. `None` when there is no such open checkout.
    pub fn pay(&self, id: &str, now: OffsetDateTime) -> Option<(String, String)> {
        let mut checkouts = self.checkouts.lock().ok()?;
        let checkout = checkouts
            .get_mut(id)
            .filter(|c| c.state == CheckoutState::Open)?;
        checkout.state = CheckoutState::Complete;
        let request = &checkout.request;
        let body = json!({
            "id": format!("evt_dev_{}", uuid::Uuid::new_v4().simple()),
            "object": "event",
            "type": "checkout.session.completed",
            "data": { "object": {
                "id": id,
                "object": "checkout.session",
                "client_reference_id": request.registration_id.to_string(),
                "payment_intent": format!("pi_dev_{}", request.registration_id.as_uuid().simple()),
                "payment_status": "paid",
                "amount_total": request.amount_cents,
                "currency": request.currency.to_ascii_lowercase(),
            }}
        })
        .to_string();
        let header = signature::sign(&self.webhook_secret, now.unix_timestamp(), body.as_bytes());
        Some((body, header))
    }
}

#[async_trait]
impl Payments for DevPayments {
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, PaymentsError> {
        // Derived from the hold, so a retry opens the same checkout (Stripe's idempotency).
        let id = format!(
            "cs_dev_{}_{}",
            request.registration_id.as_uuid().simple(),
            request.expires_at.unix_timestamp()
        );
        self.checkouts
            .lock()
            .map_err(|_| poisoned())?
            .entry(id.clone())
            .or_insert_with(|| DevCheckout {
                request: request.clone(),
                state: CheckoutState::Open,
            });
        Ok(Checkout {
            url: format!("{}/_dev/checkout/{id}", self.public_url),
            id,
        })
    }

    async fn expire_checkout(&self, checkout_id: &str) -> Result<(), PaymentsError> {
        if let Some(checkout) = self
            .checkouts
            .lock()
            .map_err(|_| poisoned())?
            .get_mut(checkout_id)
            .filter(|c| c.state == CheckoutState::Open)
        {
            checkout.state = CheckoutState::Expired;
        }
        Ok(())
    }

    async fn refund(
        &self,
        payment_id: &str,
        amount_cents: u64,
        idempotency_key: &str,
    ) -> Result<String, PaymentsError> {
        let mut refunds = self.refunds.lock().map_err(|_| poisoned())?;
        let next = refunds.len() + 1;
        let refund = refunds
            .entry(idempotency_key.to_owned())
            .or_insert_with(|| DevRefund {
                id: format!("re_dev_{next}"),
                payment_id: payment_id.to_owned(),
                amount_cents,
            });
        Ok(refund.id.clone())
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
