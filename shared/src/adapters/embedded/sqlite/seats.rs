//! What the registration and payment ports share over SQLite: reading and writing a
//! registration row inside a transaction, and the release of a seat — passed to the head
//! of the waitlist or freed — which cancellations and lapsed holds both do. Callers hold a
//! `BEGIN IMMEDIATE` transaction, so a read and the writes after it are one step.

use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::{from_json, to_json, unavailable};
use crate::domain::{
    sortable_time, EventId, EventStatus, Promotion, Refusal, Registration, RegistrationId,
    RegistrationStatus, Revocation,
};
use crate::ports::StoreError;

/// Registrations list in the order they were made; the id breaks ties.
pub(super) fn sort_key(registration: &Registration) -> String {
    by_time(registration.created_at, registration.id)
}

/// `<time>#<id>`: string order is time order, the id breaking ties.
fn by_time(at: OffsetDateTime, id: RegistrationId) -> String {
    format!("{}#{id}", sortable_time(at))
}

/// Its key in the event's revocation list (`revoked_key`), once cancelled; `after` in
/// [`crate::ports::RegistrationStore::revocations`] compares against the same form.
pub(super) fn revoked_key(revocation: Revocation) -> String {
    by_time(revocation.revoked_at, revocation.registration_id)
}

/// When a held registration's seat lapses (unix seconds); `None` for every other status.
pub(super) fn hold_expiry(registration: &Registration) -> Option<i64> {
    match (registration.status, &registration.hold) {
        (RegistrationStatus::PendingPayment, Some(hold)) => Some(hold.expires_at.unix_timestamp()),
        _ => None,
    }
}

/// The registration selected by `condition` (a `WHERE` clause with its `params`).
pub(super) fn registration_in<P: rusqlite::Params>(
    tx: &rusqlite::Transaction<'_>,
    condition: &str,
    params: P,
) -> Result<Option<Registration>, StoreError> {
    tx.query_row(
        &format!("SELECT data FROM registrations WHERE {condition}"),
        params,
        |row| row.get::<_, String>(0),
    )
    .optional()
    .map_err(unavailable)?
    .map(|json| from_json(&json))
    .transpose()
}

/// Writes `registration` over its row: status, hold expiry, place in the revocation list
/// and data.
pub(super) fn set_registration(
    tx: &rusqlite::Transaction<'_>,
    registration: &Registration,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE registrations SET status = ?2, hold_expires_at = ?3, revoked_key = ?4, data = ?5
         WHERE id = ?1",
        params![
            registration.id.to_string(),
            registration.status.as_str(),
            hold_expiry(registration),
            registration.revocation().map(revoked_key),
            to_json(registration)?
        ],
    )
    .map_err(unavailable)?;
    Ok(())
}

/// The head of the event's waitlist.
pub(super) fn first_waitlisted(
    tx: &rusqlite::Transaction<'_>,
    event_id: &str,
) -> Result<Option<Registration>, StoreError> {
    registration_in(
        tx,
        "event_id = ?1 AND status = 'WAITLISTED' ORDER BY sort_key LIMIT 1",
        [event_id],
    )
}

/// Whether the event is PUBLISHED: the state every change to one of its registrations is
/// decided on. Fails with [`StoreError::EventNotFound`].
pub(super) fn event_is_open(
    tx: &rusqlite::Transaction<'_>,
    event_id: EventId,
) -> Result<bool, StoreError> {
    let status: String = tx
        .query_row(
            "SELECT status FROM events WHERE id = ?1",
            [event_id.to_string()],
            |row| row.get(0),
        )
        .optional()
        .map_err(unavailable)?
        .ok_or(StoreError::EventNotFound)?;
    Ok(status == EventStatus::Published.as_str())
}

/// Refuses ([`Refusal::EventClosed`]) a change to a registration of an event that is not
/// PUBLISHED.
pub(super) fn require_open_event(
    tx: &rusqlite::Transaction<'_>,
    event_id: EventId,
) -> Result<(), StoreError> {
    if event_is_open(tx, event_id)? {
        Ok(())
    } else {
        Err(Refusal::EventClosed.into())
    }
}

/// Writes `released` (the released form of `before`) and, on an `open` event, passes its
/// seat to the head of the waitlist as `promotion` says, or frees it when nobody waits (a
/// closed event's seat is freed, nobody promoted); returns the promoted registration. A
/// waitlisted `before` held no seat: nothing passes on.
pub(super) fn release(
    tx: &rusqlite::Transaction<'_>,
    before: &Registration,
    released: &Registration,
    promotion: &Promotion,
    open: bool,
) -> Result<Option<Registration>, StoreError> {
    set_registration(tx, released)?;
    if before.status == RegistrationStatus::Waitlisted {
        return Ok(None);
    }
    let event_id = before.event_id.to_string();
    let waiting = if open {
        first_waitlisted(tx, &event_id)?
    } else {
        None
    };
    match waiting {
        Some(waiting) => {
            let promoted = waiting.promoted(promotion);
            set_registration(tx, &promoted)?;
            Ok(Some(promoted))
        }
        None => {
            tx.execute(
                "UPDATE events SET confirmed = confirmed - 1 WHERE id = ?1",
                [&event_id],
            )
            .map_err(unavailable)?;
            Ok(None)
        }
    }
}
