//! Domain events: what happened, written to the outbox in the transaction that made it
//! happen and published after (SNS → SQS in AWS, the in-process bus in embedded mode).
//! Not to be confused with [`Event`], the thing people register for.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use super::event::Event;
use super::ids::{EventId, RegistrationId, UserId};
use super::payment::RefundReason;
use super::registration::{Registration, RegistrationStatus};

/// Something that happened, published on the bus after the write that caused it commits.
/// JSON: `{"type": "<kind>", "data": {…}}`; `type` is also the SNS message attribute the
/// queues' filter policies route on (see [`DomainEventKind`]).
#[allow(missing_docs)] // variant fields are named for what they hold; the variants say when
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, strum::EnumDiscriminants)]
#[serde(tag = "type", content = "data")]
#[strum_discriminants(
    name(DomainEventKind),
    doc = "The kind of a [`DomainEvent`]: its `type` tag on the wire and the SNS `type` \
           attribute worker subscriptions filter on, named as the variant.",
    derive(strum::IntoStaticStr, strum::EnumIter, strum::EnumString, Hash)
)]
pub enum DomainEvent {
    /// An account was created (sign-up, or an ADMIN's `POST /users`).
    UserSignedUp { user_id: UserId },
    /// Someone asked to reset this account's password. `token` is the raw one-time token:
    /// it travels only in this event (outbox, bus) and the email; the store keeps its hash.
    PasswordResetRequested {
        user_id: UserId,
        email: String,
        token: String,
        #[serde(with = "time::serde::rfc3339")]
        expires_at: OffsetDateTime,
    },
    /// An organizer created an event (DRAFT or PUBLISHED).
    EventCreated { event: Event },
    /// The event after a full update (PUT) by its owner or an admin; `previous_slug` is
    /// the slug it had when the update renamed it (its page moved: both URLs change).
    EventUpdated {
        event: Event,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_slug: Option<String>,
    },
    /// An admin cancelled the event; `event` is it as cancelled. Every registrant is mailed.
    EventCancelled { event: Event },
    /// The email worker's own follow-up while telling a cancelled event's registrants: the
    /// next page starts after `cursor` (the registrations listing's cursor), so no single
    /// invocation mails more than one page.
    EventCancellationNoticesPending { event_id: EventId, cursor: String },
    /// A registration took a seat: a new one on a free event, or a held one whose payment
    /// arrived (then `registration.payment` is set; it held the seat as PENDING_PAYMENT).
    RegistrationConfirmed { registration: Registration },
    /// A registration on a paid event holds a seat while the attendee pays
    /// (PENDING_PAYMENT, `registration.hold` set).
    RegistrationHeld { registration: Registration },
    /// A waitlisted registration of a paid event was offered a released seat: it holds the
    /// seat (PENDING_PAYMENT, `hold.offer`) until the offer lapses; the payments worker
    /// opens its checkout.
    WaitlistOffered { registration: Registration },
    /// The checkout of a waitlist offer exists (`registration.hold.checkout_url`): the
    /// attendee is mailed the offer.
    WaitlistOfferOpened { registration: Registration },
    /// A hold (or an offer) lapsed unpaid: the seat was released and passed on;
    /// `registration` is as released (CANCELLED, its `hold` kept for the checkout id).
    HoldExpired { registration: Registration },
    /// The provider reported money received for a registration (late ones too, which a
    /// RefundRequested follows). `amount_cents` is in `currency`'s minor unit.
    PaymentReceived {
        registration_id: RegistrationId,
        event_id: EventId,
        amount_cents: u64,
        currency: String,
        /// The provider's payment id.
        payment_id: String,
    },
    /// Money of `registration` is to go back (`amount_cents` in `currency`'s minor unit);
    /// the payments worker refunds it.
    RefundRequested {
        registration: Registration,
        amount_cents: u64,
        currency: String,
        reason: RefundReason,
    },
    /// The provider refunded `amount_cents` (in `currency`'s minor unit) of
    /// `registration`'s payment.
    RegistrationRefunded {
        registration: Registration,
        amount_cents: u64,
        currency: String,
        /// The provider's refund id.
        refund_id: String,
        reason: RefundReason,
    },
    /// The payments worker's own follow-up while refunding a cancelled event's paid
    /// registrations: the next page starts after `cursor` (the registrations listing's
    /// cursor), so no single invocation refunds more than one page.
    EventRefundsPending { event_id: EventId, cursor: String },
    /// The attendee (or the organizer) changed `full_name` or `phone`.
    RegistrationUpdated { registration: Registration },
    /// A registration queued on a full event's waitlist.
    RegistrationWaitlisted { registration: Registration },
    /// A waitlisted registration took a released seat; `registration` is now confirmed.
    RegistrationPromoted { registration: Registration },
    /// A registration was cancelled. `previous` is the status it left, so the projection
    /// knows which
    /// counter to take it from.
    RegistrationCancelled {
        registration: Registration,
        previous: RegistrationStatus,
    },
    /// The signed ticket exists: `ticket` is the QR payload, `blob_key` the PNG.
    TicketIssued {
        registration: Registration,
        ticket: String,
        blob_key: String,
        /// Issued for a seat that came off the waitlist (the email says so).
        promoted: bool,
    },
    /// The first scan of a ticket at the door.
    CheckedIn {
        registration_id: RegistrationId,
        event_id: EventId,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
}

impl DomainEventKind {
    /// The wire name: the variant's name, as the `type` tag and SNS attribute carry it.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A domain event with the identity consumers deduplicate on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// A UUIDv7: unique per event, ordered by time; consumers dedupe on it.
    pub id: Uuid,
    /// When the write that caused it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// What happened.
    pub event: DomainEvent,
}

impl Envelope {
    /// `event`, given a new id.
    pub fn new(event: DomainEvent, occurred_at: OffsetDateTime) -> Self {
        Self {
            id: Uuid::now_v7(),
            occurred_at,
            event,
        }
    }

    /// The kind of event inside.
    pub fn kind(&self) -> DomainEventKind {
        DomainEventKind::from(&self.event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_attribute_matches_the_serialized_tag() {
        let envelope = Envelope::new(
            DomainEvent::UserSignedUp {
                user_id: UserId::now_v7(),
            },
            OffsetDateTime::UNIX_EPOCH,
        );
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["event"]["type"], envelope.kind().as_str());
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, envelope);
    }

    #[test]
    fn kinds_read_back_from_their_names() {
        use strum::IntoEnumIterator;
        for kind in DomainEventKind::iter() {
            assert_eq!(kind.as_str().parse::<DomainEventKind>(), Ok(kind));
        }
        assert!("NoSuchEvent".parse::<DomainEventKind>().is_err());
    }
}
