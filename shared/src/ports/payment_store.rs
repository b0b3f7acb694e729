//! Holds, payments and refunds of registrations on paid events: the store side (the
//! provider is [`super::Payments`]). Every method is one conditional write with its outbox
//! entries, so a webhook racing the holds expirer ends one way only.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{Cancellation, Committed, StoreError};
use crate::domain::{
    Checkout, Envelope, Payment, PaymentOutcome, Promotion, RefundRecord, Registration,
    RegistrationId,
};

/// The payment side of registrations.
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// Records the provider's checkout on a held registration, on condition it is still
    /// PENDING_PAYMENT, with `outbox`; returns it as updated. Fails with
    /// [`StoreError::RegistrationNotFound`], or a refusal when it no longer holds a seat.
    async fn record_checkout(
        &self,
        id: RegistrationId,
        checkout: &Checkout,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError>;

    /// Records `payment` for the registration: CONFIRMED on condition it is
    /// PENDING_PAYMENT and its hold has not lapsed at `at`; otherwise (lapsed, released,
    /// cancelled) a late payment, refunded. See [`PaymentOutcome`] (and
    /// [`PaymentOutcome::events`] for what it writes to the outbox). Fails with
    /// [`StoreError::RegistrationNotFound`].
    async fn record_payment(
        &self,
        id: RegistrationId,
        payment: &Payment,
        at: OffsetDateTime,
    ) -> Result<Committed<PaymentOutcome>, StoreError>;

    /// Up to `limit` holds (PENDING_PAYMENT) lapsed at `now`, soonest lapsed first, read
    /// from the index on expiry.
    async fn due_holds(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<Registration>, StoreError>;

    /// Releases a lapsed hold as a cancellation does, on condition it is still
    /// PENDING_PAYMENT and lapsed at `now`; the head of the waitlist takes the seat as
    /// `promotion` says, in the same transaction. Writes
    /// [`crate::domain::expiry_events`]. `None`, changing nothing, when there is no such
    /// hold any more (paid, cancelled, or not lapsed). Fails with
    /// [`StoreError::RegistrationNotFound`] or [`StoreError::Contended`].
    async fn expire_hold(
        &self,
        id: RegistrationId,
        now: OffsetDateTime,
        promotion: &Promotion,
    ) -> Result<Option<Committed<Cancellation>>, StoreError>;

    /// Records `refund` of the registration's payment once per refund id, with `outbox`
    /// (RegistrationRefunded): false, and nothing written, when it was recorded before.
    /// Never refunds more than was paid ([`StoreError::Corrupt`] if asked to).
    async fn record_refund(
        &self,
        id: RegistrationId,
        refund: &RefundRecord,
        outbox: &[Envelope],
    ) -> Result<Committed<bool>, StoreError>;
}
