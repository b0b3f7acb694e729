//! Money on paid events: what a seat held for payment records ([`Hold`]), what a payment
//! records ([`Payment`]), how a released seat passes to the waitlist ([`Promotion`]), and
//! the refund policy. Amounts are integers in the currency's minor unit (ISO 4217
//! exponent: cents for EUR, yen for JPY, fils for KWD), never floats.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::validate::currency_exponent;

/// A seat held while the attendee pays: after `expires_at` it is released (the holds
/// expirer), and a payment arriving later is refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hold {
    /// When the seat is released unless paid (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// What the seat costs, fixed when it was held, in `currency`'s minor unit.
    pub amount_cents: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// A waitlist offer (the seat came off the waitlist), not a new registration.
    #[serde(default)]
    pub offer: bool,
    /// The payment provider's checkout (Stripe Checkout Session id), once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_id: Option<String>,
    /// Where the attendee pays, once the checkout exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkout_url: Option<String>,
}

/// Money received for a registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// The provider's payment (Stripe PaymentIntent id); refunds name it.
    pub payment_id: String,
    /// Received, in `currency`'s minor unit.
    pub amount_cents: u64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    /// When the provider reported it.
    #[serde(with = "time::serde::rfc3339")]
    pub paid_at: OffsetDateTime,
    /// Refunded so far (never more than `amount_cents`).
    #[serde(default)]
    pub refunded_cents: u64,
    /// The provider's ids of the refunds recorded, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refund_ids: Vec<String>,
}

/// A checkout the provider opened for a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    /// The provider's id (Stripe Checkout Session `cs_…`).
    pub id: String,
    /// Where the attendee pays.
    pub url: String,
}

/// Why money goes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundReason {
    /// The attendee (or the organizer) cancelled within the refund policy.
    Cancelled,
    /// The payment arrived after the hold had expired or the registration was cancelled.
    LatePayment,
    /// The event was cancelled.
    EventCancelled,
}

/// What happens to the head of the waitlist when a seat is released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Promotion {
    /// Free events: the seat is theirs at once (CONFIRMED).
    Confirm,
    /// Paid events: the seat is held for them to pay until then (PENDING_PAYMENT, an offer).
    Offer {
        /// When the offer lapses and the seat passes on.
        expires_at: OffsetDateTime,
        /// The price, fixed now.
        amount_cents: u64,
        /// ISO 4217 code.
        currency: String,
    },
}

/// When a cancelled paid registration is refunded: up to `until_hours_before_start` hours
/// before the event starts (ADMINs may always refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundPolicy {
    /// 0 to 8760 (a year); 0 refunds until the start.
    pub until_hours_before_start: u32,
}

impl Default for RefundPolicy {
    fn default() -> Self {
        Self {
            until_hours_before_start: DEFAULT_REFUND_HOURS,
        }
    }
}

/// `amount_cents` of `currency` for people: `15.00 EUR`, `1500 JPY`, `1.500 KWD` (the
/// ISO 4217 exponent places the decimal point).
pub fn format_money(amount_cents: u64, currency: &str) -> String {
    let exponent = u32::from(currency_exponent(currency).unwrap_or(2));
    let unit = 10u64.pow(exponent);
    if exponent == 0 {
        format!("{amount_cents} {currency}")
    } else {
        format!(
            "{}.{:0width$} {currency}",
            amount_cents / unit,
            amount_cents % unit,
            width = exponent as usize
        )
    }
}

/// Default hold: how long a new paid registration may take to pay.
pub const DEFAULT_PAYMENT_WINDOW_MINUTES: u32 = 30;
/// Default waitlist offer window (12 h, as Hi.Events).
pub const DEFAULT_OFFER_WINDOW_MINUTES: u32 = 720;
/// Default refund policy: until a day before the start.
pub const DEFAULT_REFUND_HOURS: u32 = 24;
/// Bounds of `payment_window_minutes`.
pub const PAYMENT_WINDOW_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
/// Bounds of `offer_window_minutes`: up to a day, the longest a Stripe Checkout Session
/// lives (a longer offer would outlive its payment link).
pub const OFFER_WINDOW_MINUTES: std::ops::RangeInclusive<u32> = 5..=1440;
/// Bounds of `until_hours_before_start`.
pub const REFUND_HOURS: std::ops::RangeInclusive<u32> = 0..=8760;
/// The highest price of a seat in minor units: with at most a million seats an event's
/// money stays far below `u64::MAX`, and every sum is checked anyway.
pub const MAX_PRICE_CENTS: u64 = 100_000_000;

impl Promotion {
    /// The hold an offer gives the promoted registration; `None` when the seat is simply
    /// theirs.
    pub fn hold(&self) -> Option<Hold> {
        match self {
            Self::Confirm => None,
            Self::Offer {
                expires_at,
                amount_cents,
                currency,
            } => Some(Hold {
                expires_at: *expires_at,
                amount_cents: *amount_cents,
                currency: currency.clone(),
                offer: true,
                checkout_id: None,
                checkout_url: None,
            }),
        }
    }
}

/// A refund the provider made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    /// The provider's refund id; a refund is recorded once per id.
    pub refund_id: String,
    /// Refunded, in the payment's minor unit.
    pub amount_cents: u64,
    /// Why.
    pub reason: RefundReason,
}

/// A refund that cannot be recorded: the stored payment and the provider disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RefundMismatch {
    /// The registration has no payment to refund.
    #[error("a refund of a registration without a payment")]
    Unpaid,
    /// Its refunds would add up to more than was paid.
    #[error("refunds that would exceed the payment")]
    ExceedsPayment,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_with_the_currencys_decimals() {
        assert_eq!(format_money(1500, "EUR"), "15.00 EUR");
        assert_eq!(format_money(5, "EUR"), "0.05 EUR");
        assert_eq!(format_money(1500, "JPY"), "1500 JPY");
        assert_eq!(format_money(1500, "KWD"), "1.500 KWD");
    }
}
