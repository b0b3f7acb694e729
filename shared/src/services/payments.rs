//! What the payment provider reports, acted on once per provider event (its `evt_…` id,
//! remembered longer than the provider retries): a paid checkout is recorded on its
//! registration — CONFIRMED on condition the hold is still live, otherwise a late payment
//! kept on record and refunded (the store decides, atomically, against the holds expirer)
//! — and what the recording wrote is published. Every other kind is ignored.

use time::Duration;

use super::once::{once, Once, OnceKey};
use super::ServiceError;
use crate::app::AppContext;
use crate::domain::{Payment, PaymentOutcome};
use crate::ports::{WebhookEvent, WebhookKind};

/// The provider retries a webhook for up to three days (Stripe); remember handled ones
/// longer.
pub const HANDLED_MEMORY: Duration = Duration::days(7);

/// What a provider event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handled {
    /// A kind evreg does not act on.
    Ignored,
    /// This provider event was handled before (a redelivery).
    Before,
    /// The payment confirmed its seat.
    Confirmed,
    /// The payment came for a seat no longer held; it is refunded.
    Refunded,
    /// The registration's payment was recorded before, under another provider event.
    AlreadyRecorded,
}

impl Handled {
    /// The wire name of an outcome of a handled event (`None` for the two that did
    /// nothing now).
    pub fn outcome(self) -> Option<&'static str> {
        match self {
            Self::Ignored | Self::Before => None,
            Self::Confirmed => Some("confirmed"),
            Self::Refunded => Some("refunded"),
            Self::AlreadyRecorded => Some("already_recorded"),
        }
    }
}

/// Acts on the verified provider `event` once (see the module docs). The same event being
/// handled elsewhere right now is [`ServiceError::InProgress`] (the provider retries);
/// a store that fails leaves the event unhandled, for the provider's retry.
pub async fn handle_provider_event(
    ctx: &AppContext,
    event: WebhookEvent,
) -> Result<Handled, ServiceError> {
    let WebhookKind::CheckoutPaid {
        registration_id,
        payment_id,
        amount_cents,
        currency,
    } = event.kind
    else {
        return Ok(Handled::Ignored);
    };
    let key = format!("payments-webhook:{}", event.id);
    let key = OnceKey {
        key: &key,
        fingerprint: "",
        memory: HANDLED_MEMORY,
    };
    let ran = once(ctx, key, || async {
        let now = ctx.clock.now();
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
        match recorded {
            Ok(recorded) => (Ok(ctx.publish(recorded).await), Some("handled".to_owned())),
            Err(error) => (Err(error), None),
        }
    })
    .await?;
    let outcome = match ran {
        Once::Ran(outcome) => outcome?,
        Once::Done(_) => return Ok(Handled::Before),
        Once::InFlight | Once::Mismatch => return Err(ServiceError::InProgress),
    };
    let handled = match outcome {
        PaymentOutcome::Confirmed(_) => Handled::Confirmed,
        PaymentOutcome::Late(_) => Handled::Refunded,
        PaymentOutcome::AlreadyRecorded => Handled::AlreadyRecorded,
    };
    if let Some(outcome) = handled.outcome() {
        crate::telemetry::payment(outcome);
    }
    Ok(handled)
}
