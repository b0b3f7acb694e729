//! What both stores write for a decision the domain takes on one registration: the
//! registration as it is to be with its outbox (or nothing), and what the port answers.
//! Each store reads the registration, asks one of these, and writes the change atomically
//! (DynamoDB: on condition of the version read; SQLite: inside one transaction).

use time::OffsetDateTime;

use crate::domain::{
    Checkout, Envelope, Payment, PaymentOutcome, RefundRecord, Refusal, Registration,
};
use crate::ports::StoreError;

/// A decision: the change to store (`None`: nothing), and the answer.
pub(crate) type Decision<T> = (Option<(Registration, Vec<Envelope>)>, T);

/// `registration` with `checkout` on its hold, written with `outbox`; answers it. Refuses
/// ([`Refusal::EventClosed`]) when its event is not `open`.
pub(crate) fn checkout_recorded(
    registration: &Registration,
    open: bool,
    checkout: &Checkout,
    outbox: &[Envelope],
) -> Result<Decision<Registration>, StoreError> {
    if !open {
        return Err(Refusal::EventClosed.into());
    }
    let after = registration.with_checkout(checkout)?;
    Ok((Some((after.clone(), outbox.to_vec())), after))
}

/// What `payment` at `at` does to `registration` of an `open` (or closed) event
/// (`Registration::settle`), written with the outbox it calls for
/// ([`PaymentOutcome::events`]); answers the outcome.
pub(crate) fn settlement(
    registration: &Registration,
    open: bool,
    payment: &Payment,
    at: OffsetDateTime,
) -> Decision<PaymentOutcome> {
    let outcome = registration.settle(payment, open, at);
    let change = outcome
        .registration()
        .map(|after| (after.clone(), outcome.events(payment, at)));
    (change, outcome)
}

/// `registration` with `refund` recorded, written with `outbox`; answers whether it was
/// new. A refund the stored payment cannot take is [`StoreError::Corrupt`].
pub(crate) fn refunded(
    registration: &Registration,
    refund: &RefundRecord,
    outbox: &[Envelope],
) -> Result<Decision<bool>, StoreError> {
    match registration.with_refund(refund) {
        Ok(Some(after)) => Ok((Some((after, outbox.to_vec())), true)),
        Ok(None) => Ok((None, false)),
        Err(mismatch) => Err(StoreError::Corrupt(format!(
            "{}: {mismatch}",
            registration.id
        ))),
    }
}
