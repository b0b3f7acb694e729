//! Money on paid events: what a seat held for payment records ([`Hold`]), what a payment
//! records ([`Payment`]), how a released seat passes to the waitlist ([`Promotion`]), and
//! the refund policy. Amounts are integers in the currency's minor unit (ISO 4217
//! exponent: cents for EUR, yen for JPY, fils for KWD), never floats.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::error::Refusal;
use super::event::Event;
use super::registration::{Registration, RegistrationStatus};
use super::validate::currency_exponent;
use super::{DomainEvent, Envelope};

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

impl Event {
    /// Whether a seat costs money.
    pub fn is_paid(&self) -> bool {
        self.price_cents > 0
    }

    /// The hold of a new paid registration made at `now`; `None` on a free event.
    pub fn hold_at(&self, now: OffsetDateTime) -> Option<Hold> {
        self.is_paid().then(|| Hold {
            expires_at: now + Duration::minutes(i64::from(self.payment_window_minutes)),
            amount_cents: self.price_cents,
            currency: self.currency.clone(),
            offer: false,
            checkout_id: None,
            checkout_url: None,
        })
    }

    /// How a seat released at `now` passes to the head of the waitlist.
    pub fn promotion_at(&self, now: OffsetDateTime) -> Promotion {
        if self.is_paid() {
            Promotion::Offer {
                expires_at: now + Duration::minutes(i64::from(self.offer_window_minutes)),
                amount_cents: self.price_cents,
                currency: self.currency.clone(),
            }
        } else {
            Promotion::Confirm
        }
    }

    /// Whether a paid registration cancelled at `now` is refunded: within the refund
    /// policy, or always when an ADMIN cancels.
    pub fn refunds_at(&self, now: OffsetDateTime, by_admin: bool) -> bool {
        let deadline =
            self.date - Duration::hours(i64::from(self.refund_policy.until_hours_before_start));
        by_admin || now <= deadline
    }
}

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

/// What recording a payment did to the registration it paid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// The hold was live: the registration is CONFIRMED (outbox: RegistrationConfirmed,
    /// PaymentReceived).
    Confirmed(Registration),
    /// The hold had lapsed or the registration was cancelled: the payment is recorded on
    /// it and a refund requested (outbox: PaymentReceived, RefundRequested).
    Late(Registration),
    /// This registration's payment was recorded before: nothing changed.
    AlreadyRecorded,
}

impl PaymentOutcome {
    /// The registration as it is to be stored, unless nothing changed.
    pub fn registration(&self) -> Option<&Registration> {
        match self {
            Self::Confirmed(registration) | Self::Late(registration) => Some(registration),
            Self::AlreadyRecorded => None,
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

impl Registration {
    /// Whether its hold has lapsed at `now`: PENDING_PAYMENT, and `expires_at` at or before
    /// `now` (to the second, as the stores index it).
    pub fn hold_lapsed(&self, now: OffsetDateTime) -> bool {
        self.status == RegistrationStatus::PendingPayment
            && self
                .hold
                .as_ref()
                .is_some_and(|hold| hold.expires_at.unix_timestamp() <= now.unix_timestamp())
    }

    /// This held registration with the provider's `checkout` on its hold. Refuses
    /// ([`Refusal::NotConfirmed`]) one that no longer holds a seat.
    pub fn with_checkout(&self, checkout: &Checkout) -> Result<Self, Refusal> {
        let mut hold = self
            .hold
            .clone()
            .filter(|_| self.status == RegistrationStatus::PendingPayment)
            .ok_or(Refusal::NotConfirmed)?;
        hold.checkout_id = Some(checkout.id.clone());
        hold.checkout_url = Some(checkout.url.clone());
        Ok(Self {
            hold: Some(hold),
            ..self.clone()
        })
    }

    /// What `payment`, made at `at`, does to this registration of an `open` (PUBLISHED) or
    /// closed event, with the outbox to write beside it: a live hold of an open event is
    /// confirmed; a lapsed or cancelled hold, or any of a closed event, keeps the money on
    /// record and asks for it back — a payment never confirms a registration without a
    /// seat, nor one of a cancelled event.
    pub fn settle(
        &self,
        payment: &Payment,
        open: bool,
        at: OffsetDateTime,
    ) -> (PaymentOutcome, Vec<Envelope>) {
        if self.payment.is_some() {
            return (PaymentOutcome::AlreadyRecorded, Vec::new());
        }
        let live =
            open && self.status == RegistrationStatus::PendingPayment && !self.hold_lapsed(at);
        if live {
            let paid = self.paid(payment.clone());
            let outbox = vec![
                Envelope::new(
                    DomainEvent::RegistrationConfirmed {
                        registration: paid.clone(),
                    },
                    at,
                ),
                payment_received(&paid, payment, at),
            ];
            (PaymentOutcome::Confirmed(paid), outbox)
        } else {
            let late = Self {
                payment: Some(payment.clone()),
                ..self.clone()
            };
            let mut outbox = vec![payment_received(&late, payment, at)];
            outbox.extend(late.refund_request(RefundReason::LatePayment, at));
            (PaymentOutcome::Late(late), outbox)
        }
    }

    /// This paid registration with `refund` recorded on its payment; `Ok(None)` when that
    /// refund was recorded before. Refunds add up with checked arithmetic, never beyond the
    /// payment.
    pub fn with_refund(&self, refund: &RefundRecord) -> Result<Option<Self>, RefundMismatch> {
        let mut payment = self.payment.clone().ok_or(RefundMismatch::Unpaid)?;
        if payment.refund_ids.contains(&refund.refund_id) {
            return Ok(None);
        }
        payment.refunded_cents = payment
            .refunded_cents
            .checked_add(refund.amount_cents)
            .filter(|total| *total <= payment.amount_cents)
            .ok_or(RefundMismatch::ExceedsPayment)?;
        payment.refund_ids.push(refund.refund_id.clone());
        Ok(Some(Self {
            payment: Some(payment),
            ..self.clone()
        }))
    }
}

fn payment_received(
    registration: &Registration,
    payment: &Payment,
    at: OffsetDateTime,
) -> Envelope {
    Envelope::new(
        DomainEvent::PaymentReceived {
            registration_id: registration.id,
            event_id: registration.event_id,
            amount_cents: payment.amount_cents,
            currency: payment.currency.clone(),
            payment_id: payment.payment_id.clone(),
        },
        at,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{EventId, EventStatus, UserId};
    use time::macros::datetime;

    fn event(price_cents: u64) -> Event {
        Event {
            id: EventId::now_v7(),
            owner_id: UserId::now_v7(),
            name: "Paid".into(),
            slug: "paid".into(),
            description: String::new(),
            date: datetime!(2027-03-01 18:00 UTC),
            end_date: None,
            venue: "Hall".into(),
            timezone: chrono_tz::Tz::UTC,
            max_capacity: 10,
            price_cents,
            currency: "EUR".into(),
            status: EventStatus::Published,
            waitlist_enabled: true,
            payment_window_minutes: 30,
            offer_window_minutes: 720,
            refund_policy: RefundPolicy::default(),
            created_at: datetime!(2027-01-01 0:00 UTC),
        }
    }

    #[test]
    fn money_reads_with_the_currencys_decimals() {
        assert_eq!(format_money(1500, "EUR"), "15.00 EUR");
        assert_eq!(format_money(5, "EUR"), "0.05 EUR");
        assert_eq!(format_money(1500, "JPY"), "1500 JPY");
        assert_eq!(format_money(1500, "KWD"), "1.500 KWD");
    }

    #[test]
    fn free_events_hold_nothing_and_promote_at_once() {
        let free = event(0);
        let now = datetime!(2027-02-01 12:00 UTC);
        assert_eq!(free.hold_at(now), None);
        assert_eq!(free.promotion_at(now), Promotion::Confirm);
        assert_eq!(Promotion::Confirm.hold(), None);
    }

    #[test]
    fn paid_events_hold_for_the_payment_window_and_offer_for_the_offer_window() {
        let paid = event(1500);
        let now = datetime!(2027-02-01 12:00 UTC);
        let hold = paid.hold_at(now).unwrap();
        assert_eq!(hold.expires_at, datetime!(2027-02-01 12:30 UTC));
        assert_eq!((hold.amount_cents, hold.currency.as_str()), (1500, "EUR"));
        assert!(!hold.offer);
        let offer = paid.promotion_at(now).hold().unwrap();
        assert_eq!(offer.expires_at, datetime!(2027-02-02 0:00 UTC));
        assert!(offer.offer);
    }

    #[test]
    fn refunds_follow_the_policy_unless_an_admin_cancels() {
        let paid = event(1500);
        let just_in_time = datetime!(2027-02-28 18:00 UTC);
        let too_late = datetime!(2027-02-28 18:00:01 UTC);
        assert!(paid.refunds_at(just_in_time, false));
        assert!(!paid.refunds_at(too_late, false));
        assert!(paid.refunds_at(too_late, true));
    }

    fn held(paid_event: &Event, now: OffsetDateTime) -> Registration {
        Registration {
            id: crate::domain::RegistrationId::now_v7(),
            event_id: paid_event.id,
            email: "ann@example.org".into(),
            full_name: "Ann Lee".into(),
            phone: None,
            status: RegistrationStatus::PendingPayment,
            created_at: now,
            checked_in_at: None,
            hold: paid_event.hold_at(now),
            payment: None,
            cancelled_at: None,
        }
    }

    fn payment(amount_cents: u64) -> Payment {
        Payment {
            payment_id: "pi_1".into(),
            amount_cents,
            currency: "EUR".into(),
            paid_at: datetime!(2027-02-01 12:10 UTC),
            refunded_cents: 0,
            refund_ids: Vec::new(),
        }
    }

    fn kinds(outbox: &[Envelope]) -> Vec<&'static str> {
        outbox.iter().map(|e| e.kind().into()).collect()
    }

    #[test]
    fn a_payment_confirms_a_live_hold_once() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let ann = held(&event(1500), now);
        let in_time = datetime!(2027-02-01 12:29:59 UTC);
        let (outcome, outbox) = ann.settle(&payment(1500), true, in_time);
        let PaymentOutcome::Confirmed(paid) = &outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(paid.status, RegistrationStatus::Confirmed);
        assert_eq!(paid.hold, None);
        assert_eq!(kinds(&outbox), ["RegistrationConfirmed", "PaymentReceived"]);
        assert_eq!(
            paid.settle(&payment(1500), true, in_time),
            (PaymentOutcome::AlreadyRecorded, Vec::new())
        );
    }

    #[test]
    fn a_payment_for_a_lapsed_or_cancelled_hold_is_kept_on_record_and_refunded() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let ann = held(&event(1500), now);
        let at_expiry = datetime!(2027-02-01 12:30 UTC);
        assert!(ann.hold_lapsed(at_expiry));
        assert!(!ann.hold_lapsed(datetime!(2027-02-01 12:29:59 UTC)));
        let cancelled = ann.with_status(RegistrationStatus::Cancelled);
        assert!(!cancelled.hold_lapsed(at_expiry), "only held seats lapse");
        for (registration, at) in [(&ann, at_expiry), (&cancelled, now)] {
            let (outcome, outbox) = registration.settle(&payment(1500), true, at);
            let PaymentOutcome::Late(late) = &outcome else {
                panic!("{outcome:?}")
            };
            assert_eq!(late.status, registration.status, "never confirmed");
            assert_eq!(late.payment, Some(payment(1500)));
            assert_eq!(kinds(&outbox), ["PaymentReceived", "RefundRequested"]);
        }
    }

    #[test]
    fn a_checkout_is_recorded_only_on_a_held_seat() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let ann = held(&event(1500), now);
        let checkout = Checkout {
            id: "cs_1".into(),
            url: "https://checkout.example/cs_1".into(),
        };
        let with = ann.with_checkout(&checkout).unwrap();
        let hold = with.hold.unwrap();
        assert_eq!(
            (hold.checkout_id.as_deref(), hold.checkout_url.as_deref()),
            (Some("cs_1"), Some("https://checkout.example/cs_1"))
        );
        let cancelled = ann.with_status(RegistrationStatus::Cancelled);
        assert_eq!(
            cancelled.with_checkout(&checkout),
            Err(Refusal::NotConfirmed)
        );
    }

    #[test]
    fn refunds_are_recorded_once_each_and_never_beyond_the_payment() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let (PaymentOutcome::Confirmed(paid), _) =
            held(&event(1500), now).settle(&payment(1500), true, now)
        else {
            panic!("confirmed")
        };
        let refund = |id: &str, amount_cents| RefundRecord {
            refund_id: id.into(),
            amount_cents,
            reason: RefundReason::Cancelled,
        };
        let part = paid.with_refund(&refund("re_1", 1000)).unwrap().unwrap();
        assert_eq!(part.payment.as_ref().unwrap().refunded_cents, 1000);
        assert_eq!(
            part.with_refund(&refund("re_1", 1000)),
            Ok(None),
            "once per id"
        );
        assert_eq!(
            part.with_refund(&refund("re_2", 501)),
            Err(RefundMismatch::ExceedsPayment)
        );
        assert_eq!(
            part.with_refund(&refund("re_3", u64::MAX)),
            Err(RefundMismatch::ExceedsPayment),
            "no wrapping sum"
        );
        assert_eq!(part.refundable_cents(), 500);
        let unpaid = held(&event(1500), now);
        assert_eq!(
            unpaid.with_refund(&refund("re_4", 1)),
            Err(RefundMismatch::Unpaid)
        );
    }
}
