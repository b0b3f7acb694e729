//! Registrations: one attendee's place at one event, their state machine
//! (PENDING_PAYMENT → CONFIRMED → CHECKED_IN; WAITLISTED → CONFIRMED; any live state →
//! CANCELLED), validation of the request, and the rules for what each state refuses.
//! The store enforces the same rules in its write conditions; these give the reason.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::error::{DomainError, Refusal, Violations};
use super::ids::{EventId, RegistrationId};
use super::payment::{Checkout, Hold, Payment, Promotion, RefundMismatch, RefundRecord};
use super::validate::{canonical_email, international_phone, is_present_text};

/// Where a registration is in its life (wire names in SCREAMING_SNAKE_CASE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RegistrationStatus {
    /// Holds a seat while the attendee pays.
    PendingPayment,
    /// Holds a seat.
    Confirmed,
    /// Queued for a seat of a full event.
    Waitlisted,
    /// Holds a seat and was admitted at the door.
    CheckedIn,
    /// Holds nothing any more.
    Cancelled,
}

/// A registration as stored and as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Its id (UUIDv7).
    pub id: RegistrationId,
    /// The event registered for.
    pub event_id: EventId,
    /// Normalized: the (event, email) pair is unique among live registrations.
    pub email: String,
    /// 1–200 characters, trimmed.
    pub full_name: String,
    /// Digits, spaces and `+ - ( )`, at most 32 characters, if given.
    pub phone: Option<String>,
    /// See [`RegistrationStatus`].
    pub status: RegistrationStatus,
    /// When it was made; the waitlist is served in this order.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The first scan at the door.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub checked_in_at: Option<OffsetDateTime>,
    /// While PENDING_PAYMENT: the seat held, its price and the checkout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<Hold>,
    /// Once paid: the money received (and refunded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    /// When it was cancelled (attendee, organizer or a lapsed hold); none while live, and
    /// for registrations cancelled before the field existed.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub cancelled_at: Option<OffsetDateTime>,
}

/// A cancelled registration as door devices learn of it: its ticket, however well signed,
/// no longer admits (pretix calls the same list "revoked secrets"). Ordered by
/// (`revoked_at`, `registration_id`), the order `GET /events/{id}/revocations` pages in;
/// the last one a device holds is where its next sync starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Revocation {
    /// When the registration was cancelled.
    #[serde(with = "time::serde::rfc3339")]
    pub revoked_at: OffsetDateTime,
    /// The registration whose ticket is revoked (the ticket payload carries it).
    pub registration_id: RegistrationId,
}

/// How far behind the present a revocation list's resume point stays: the longest a
/// cancellation can take from reading its clock to committing (a Lambda's timeout, at most
/// 60 s in `template.yaml`, with the DynamoDB index's lag and the clock skew between
/// functions well inside the rest). A cancellation stamped earlier than this is visible
/// to every read; one stamped later may still be committing, so it is read again.
pub const REVOCATION_SETTLE: time::Duration = time::Duration::minutes(5);

/// Where a device's next sync of a revocation list starts, after it read `read` at `now`.
/// A page cut short by the limit (`more`) resumes exactly after its last entry, so a long
/// list makes progress. A read that reached the end resumes at `now - REVOCATION_SETTLE`:
/// every cancellation stamped before that has committed, so it was read (or listed by an
/// earlier page), while one stamped later may still be committing and must be read again —
/// even if that rewinds behind entries already read. Entries may therefore come twice;
/// devices keep a set.
pub fn revocations_resume(read: &[Revocation], more: bool, now: OffsetDateTime) -> Revocation {
    match (more, read.last()) {
        (true, Some(last)) => *last,
        _ => Revocation {
            revoked_at: now - REVOCATION_SETTLE,
            registration_id: RegistrationId::from_uuid(uuid::Uuid::nil()),
        },
    }
}

/// A registration request as the API receives it, before validation.
#[derive(Debug, Clone, Deserialize)]
pub struct NewRegistration {
    /// The attendee's email address.
    pub email: String,
    /// The attendee's name as it should appear on the ticket.
    pub full_name: String,
    /// A phone number, optional.
    #[serde(default)]
    pub phone: Option<String>,
}

const MAX_NAME_CHARS: usize = 200;

impl NewRegistration {
    /// Validates the request into a registration holding a confirmed seat; whether the
    /// seat exists is the store's transaction to decide.
    pub fn confirmed(
        self,
        id: RegistrationId,
        event_id: EventId,
        now: OffsetDateTime,
    ) -> Result<Registration, DomainError> {
        let mut violations = Violations::default();
        let email = violations.accept("email", canonical_email(&self.email));
        let (full_name, phone) = checked_details(&mut violations, &self.full_name, self.phone);
        violations.into_result()?;
        Ok(Registration {
            id,
            event_id,
            email: email.unwrap_or_default(),
            full_name,
            phone,
            status: RegistrationStatus::Confirmed,
            created_at: now,
            checked_in_at: None,
            hold: None,
            payment: None,
            cancelled_at: None,
        })
    }
}

/// A change of an attendee's details (`PUT /registrations/{id}`): name and phone. The
/// email is the registration's identity (the (event, email) guard holds it), so it may be
/// given only unchanged.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetailsChange {
    /// The new name, 1–200 characters.
    pub full_name: String,
    /// The new phone, or none.
    #[serde(default)]
    pub phone: Option<String>,
    /// The registration's email, if the client sends it back; anything else is refused.
    #[serde(default)]
    pub email: Option<String>,
}

impl DetailsChange {
    /// `registration` with the new details, validated as on registration (every invalid
    /// field reported at once).
    pub fn apply(self, registration: &Registration) -> Result<Registration, DomainError> {
        let mut violations = Violations::default();
        if let Some(email) = &self.email {
            violations.check(
                canonical_email(email).as_deref() == Ok(registration.email.as_str()),
                "email",
                "cannot change: cancel and register again with the new address",
            );
        }
        let (full_name, phone) = checked_details(&mut violations, &self.full_name, self.phone);
        violations.into_result()?;
        Ok(Registration {
            full_name,
            phone,
            ..registration.clone()
        })
    }
}

/// The trimmed name and the phone in its international form (an empty phone is none),
/// their violations recorded.
fn checked_details(
    violations: &mut Violations,
    full_name: &str,
    phone: Option<String>,
) -> (String, Option<String>) {
    violations.check(
        is_present_text(full_name, MAX_NAME_CHARS),
        "full_name",
        format!("must be 1 to {MAX_NAME_CHARS} characters"),
    );
    let phone = phone.filter(|p| !p.trim().is_empty()).and_then(|p| {
        violations.accept(
            "phone",
            international_phone(&p)
                .ok_or("must be an international number: + and the country code, then the number"),
        )
    });
    (full_name.trim().to_owned(), phone)
}

impl Registration {
    /// The same request, queued for a seat instead of holding one (a queued registration
    /// holds nothing, so no hold either).
    pub fn waitlisted(&self) -> Self {
        Self {
            status: RegistrationStatus::Waitlisted,
            hold: None,
            ..self.clone()
        }
    }

    /// The same request, holding its seat while the attendee pays (PENDING_PAYMENT).
    pub fn held(&self, hold: Hold) -> Self {
        Self {
            status: RegistrationStatus::PendingPayment,
            hold: Some(hold),
            ..self.clone()
        }
    }

    /// This waitlisted registration given the released seat by `promotion`: CONFIRMED, or
    /// PENDING_PAYMENT with an offer.
    pub fn promoted(&self, promotion: &Promotion) -> Self {
        match promotion.hold() {
            Some(hold) => self.held(hold),
            None => self.with_status(RegistrationStatus::Confirmed),
        }
    }

    /// This held registration paid by `payment`: CONFIRMED, the hold gone.
    pub fn paid(&self, payment: Payment) -> Self {
        Self {
            status: RegistrationStatus::Confirmed,
            hold: None,
            payment: Some(payment),
            ..self.clone()
        }
    }

    /// What is left to refund of its payment, if any.
    pub fn refundable_cents(&self) -> u64 {
        self.payment
            .as_ref()
            .map_or(0, |p| p.amount_cents.saturating_sub(p.refunded_cents))
    }

    /// This registration with `status`, as a transition writes it.
    pub fn with_status(&self, status: RegistrationStatus) -> Self {
        Self {
            status,
            ..self.clone()
        }
    }

    /// It, cancelled at `at`: CANCELLED, and listed among its event's revocations.
    pub fn cancelled(&self, at: OffsetDateTime) -> Self {
        Self {
            status: RegistrationStatus::Cancelled,
            cancelled_at: Some(at),
            ..self.clone()
        }
    }

    /// Its entry in the event's revocation list, once cancelled.
    pub fn revocation(&self) -> Option<Revocation> {
        match (self.status, self.cancelled_at) {
            (RegistrationStatus::Cancelled, Some(revoked_at)) => Some(Revocation {
                revoked_at,
                registration_id: self.id,
            }),
            _ => None,
        }
    }

    /// Why an attendee (or the organizer) may not cancel it now, if they may not.
    pub fn refuse_cancel(&self) -> Result<(), Refusal> {
        match self.status {
            RegistrationStatus::Cancelled => Err(Refusal::AlreadyCancelled),
            RegistrationStatus::CheckedIn => Err(Refusal::AlreadyCheckedIn(self.checked_in_at)),
            RegistrationStatus::PendingPayment
            | RegistrationStatus::Confirmed
            | RegistrationStatus::Waitlisted => Ok(()),
        }
    }

    /// Why it may not be checked in now, if it may not: only a confirmed seat admits.
    pub fn refuse_check_in(&self) -> Result<(), Refusal> {
        match self.status {
            RegistrationStatus::Confirmed => Ok(()),
            RegistrationStatus::CheckedIn => Err(Refusal::AlreadyCheckedIn(self.checked_in_at)),
            RegistrationStatus::Cancelled => Err(Refusal::Cancelled),
            RegistrationStatus::Waitlisted | RegistrationStatus::PendingPayment => {
                Err(Refusal::NotConfirmed)
            }
        }
    }

    /// This registration checked in at `at`, as the first scan writes it.
    pub fn checked_in(&self, at: OffsetDateTime) -> Self {
        Self {
            status: RegistrationStatus::CheckedIn,
            checked_in_at: Some(at),
            ..self.clone()
        }
    }

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
    /// closed event: a live hold of an open event is confirmed; a lapsed or cancelled hold,
    /// or any of a closed event, keeps the money on record (to be refunded) — a payment
    /// never confirms a registration without a seat, nor one of a cancelled event. The
    /// events it writes are [`PaymentOutcome::events`].
    pub fn settle(&self, payment: &Payment, open: bool, at: OffsetDateTime) -> PaymentOutcome {
        if self.payment.is_some() {
            return PaymentOutcome::AlreadyRecorded;
        }
        let live =
            open && self.status == RegistrationStatus::PendingPayment && !self.hold_lapsed(at);
        if live {
            PaymentOutcome::Confirmed(self.paid(payment.clone()))
        } else {
            PaymentOutcome::Late(Self {
                payment: Some(payment.clone()),
                ..self.clone()
            })
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

impl RegistrationStatus {
    /// The wire and storage name (`CONFIRMED`, `PENDING_PAYMENT`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PendingPayment => "PENDING_PAYMENT",
            Self::Confirmed => "CONFIRMED",
            Self::Waitlisted => "WAITLISTED",
            Self::CheckedIn => "CHECKED_IN",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// The status named `text` exactly as [`RegistrationStatus::as_str`] writes it.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::PendingPayment,
            Self::Confirmed,
            Self::Waitlisted,
            Self::CheckedIn,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

/// How a released seat passes on, and whether the released registration's money goes back:
/// decided from the event by the caller, applied by the store in the release's own
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// What the head of the waitlist gets.
    pub promotion: Promotion,
    /// Whether a paid registration is refunded.
    pub refund: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(email: &str, full_name: &str, phone: Option<&str>) -> NewRegistration {
        NewRegistration {
            email: email.into(),
            full_name: full_name.into(),
            phone: phone.map(Into::into),
        }
    }

    fn confirm(new: NewRegistration) -> Result<Registration, DomainError> {
        new.confirmed(
            RegistrationId::now_v7(),
            EventId::now_v7(),
            OffsetDateTime::UNIX_EPOCH,
        )
    }

    #[test]
    fn a_registration_is_normalized_and_confirmed() {
        let reg = confirm(request(" Ann@X.org", " Ann Lee ", Some(" "))).unwrap();
        assert_eq!(reg.email, "ann@x.org");
        assert_eq!(reg.full_name, "Ann Lee");
        assert_eq!(reg.phone, None);
        assert_eq!(reg.status, RegistrationStatus::Confirmed);
    }

    #[test]
    fn invalid_fields_are_all_reported() {
        let Err(DomainError::Invalid(errors)) = confirm(request("x", "", Some("call me"))) else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "full_name", "phone"]);
    }

    #[test]
    fn statuses_round_trip_their_wire_names() {
        for status in [
            RegistrationStatus::PendingPayment,
            RegistrationStatus::Confirmed,
            RegistrationStatus::Waitlisted,
            RegistrationStatus::CheckedIn,
            RegistrationStatus::Cancelled,
        ] {
            let wire = serde_json::to_value(status).unwrap();
            assert_eq!(wire, status.as_str());
            assert_eq!(RegistrationStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(RegistrationStatus::parse("confirmed"), None);
    }

    #[test]
    fn a_cancelled_registration_is_revoked_at_its_cancellation() {
        let reg = confirm(request("a@b.co", "A", None)).unwrap();
        assert_eq!(reg.revocation(), None);
        let at = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(3);
        let cancelled = reg.cancelled(at);
        assert_eq!(cancelled.status, RegistrationStatus::Cancelled);
        assert_eq!(
            cancelled.revocation(),
            Some(Revocation {
                revoked_at: at,
                registration_id: reg.id
            })
        );
        // Cancelled before the time was recorded: off the list rather than misdated.
        assert_eq!(
            reg.with_status(RegistrationStatus::Cancelled).revocation(),
            None
        );
    }

    #[test]
    fn a_revocation_sync_resumes_after_a_full_page_and_rewinds_at_the_end() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        let entry = |minutes_ago: i64| Revocation {
            revoked_at: now - time::Duration::minutes(minutes_ago),
            registration_id: RegistrationId::now_v7(),
        };
        let read = [entry(30), entry(2)];
        // More to come: exactly after the last entry read, or the list never ends.
        assert_eq!(revocations_resume(&read, true, now), read[1]);
        // The end: behind every cancellation that may still be committing, even behind
        // entries already read (entry(2) comes again next time).
        let settled = revocations_resume(&read, false, now);
        assert_eq!(settled.revoked_at, now - REVOCATION_SETTLE);
        assert!(settled < read[1] && settled > read[0]);
        assert_eq!(revocations_resume(&[], false, now), settled);
        // An entry stamped the same instant as the resume point still sorts after it.
        assert!(
            Revocation {
                revoked_at: settled.revoked_at,
                registration_id: RegistrationId::now_v7()
            } > settled
        );
    }

    #[test]
    fn only_live_registrations_can_be_cancelled() {
        let reg = confirm(request("a@b.co", "A", None)).unwrap();
        assert_eq!(reg.refuse_cancel(), Ok(()));
        assert_eq!(reg.waitlisted().refuse_cancel(), Ok(()));
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            reg.checked_in(at).refuse_cancel(),
            Err(Refusal::AlreadyCheckedIn(Some(at)))
        );
        assert_eq!(
            reg.with_status(RegistrationStatus::Cancelled)
                .refuse_cancel(),
            Err(Refusal::AlreadyCancelled)
        );
    }

    #[test]
    fn only_confirmed_seats_check_in() {
        let reg = confirm(request("a@b.co", "A", None)).unwrap();
        let at = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(reg.refuse_check_in(), Ok(()));
        assert_eq!(
            reg.checked_in(at).refuse_check_in(),
            Err(Refusal::AlreadyCheckedIn(Some(at)))
        );
        assert_eq!(
            reg.with_status(RegistrationStatus::Cancelled)
                .refuse_check_in(),
            Err(Refusal::Cancelled)
        );
        for unseated in [
            RegistrationStatus::Waitlisted,
            RegistrationStatus::PendingPayment,
        ] {
            assert_eq!(
                reg.with_status(unseated).refuse_check_in(),
                Err(Refusal::NotConfirmed)
            );
        }
    }

    #[test]
    fn details_change_name_and_phone_but_never_the_email() {
        let reg = confirm(request("ann@x.org", "Ann", None)).unwrap();
        let change = |json: serde_json::Value| {
            serde_json::from_value::<DetailsChange>(json)
                .unwrap()
                .apply(&reg)
        };
        let changed =
            change(serde_json::json!({"full_name": " Ann Lee ", "phone": "+1 415 555 2671"}))
                .unwrap();
        assert_eq!(
            (changed.full_name.as_str(), changed.phone.as_deref()),
            ("Ann Lee", Some("+1 415-555-2671"))
        );
        assert_eq!((changed.id, &changed.email), (reg.id, &reg.email));
        assert!(change(serde_json::json!({"full_name": "A", "email": "ANN@x.org"})).is_ok());
        let Err(DomainError::Invalid(errors)) =
            change(serde_json::json!({"full_name": "", "phone": "x", "email": "bob@x.org"}))
        else {
            panic!("expected invalid");
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["email", "full_name", "phone"]);
    }
}

#[cfg(test)]
mod payment_tests {
    use super::*;
    use crate::domain::fixtures::{event, held, payment};
    use crate::domain::RefundReason;
    use time::macros::datetime;

    #[test]
    fn a_payment_confirms_a_live_hold_once() {
        let now = datetime!(2027-02-01 12:00 UTC);
        let ann = held(&event(1500), now);
        let in_time = datetime!(2027-02-01 12:29:59 UTC);
        let outcome = ann.settle(&payment(1500), true, in_time);
        let PaymentOutcome::Confirmed(paid) = &outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(paid.status, RegistrationStatus::Confirmed);
        assert_eq!(paid.hold, None);
        assert_eq!(
            paid.settle(&payment(1500), true, in_time),
            PaymentOutcome::AlreadyRecorded
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
            let outcome = registration.settle(&payment(1500), true, at);
            let PaymentOutcome::Late(late) = &outcome else {
                panic!("{outcome:?}")
            };
            assert_eq!(late.status, registration.status, "never confirmed");
            assert_eq!(late.payment, Some(payment(1500)));
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
        let PaymentOutcome::Confirmed(paid) =
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
