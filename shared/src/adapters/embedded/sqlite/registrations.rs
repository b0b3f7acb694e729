//! [`RegistrationStore`] over SQLite. A registration row carries `status` and `sort_key`
//! (creation time, then id) as columns beside its JSON: the partial unique index on
//! (event, email) over live rows is the one-registration-per-email guard, and the waitlist
//! is the WAITLISTED rows in `sort_key` order; the revocation list is the rows with a
//! `revoked_key` (cancellation time, then id), set by the UPDATE that cancels. Each write is one `BEGIN IMMEDIATE`
//! transaction whose conditional statements decide, as DynamoDB's conditions do.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::seats::{
    first_waitlisted, hold_expiry, registration_in, release, require_open_event, revoked_key,
    set_registration, sort_key,
};
use super::{commit, from_json, is_unique_violation, page_of, to_json, unavailable, SqliteStore};
use crate::adapters::cursor;
use crate::domain::{
    cancellation_events, promotion_event, Envelope, EventId, Promotion, Refusal, Registration,
    RegistrationId, RegistrationStatus, Release, Revocation,
};
use crate::ports::{Cancellation, Committed, Page, RegistrationStore, StoreError};

/// Where a listing page resumes: after this `sort_key`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Resume {
    after: String,
}

impl SqliteStore {
    /// One transaction, as the DynamoDB adapter's: the condition on the event (`condition`,
    /// an UPDATE of the event row by id `?1`), the registration under its (event, email)
    /// unique constraint, and the outbox. A refusal names a duplicate first, then the
    /// event's state; `refusal` decides for a published event, given its waitlist flag.
    async fn register_with(
        &self,
        condition: &'static str,
        registration: &Registration,
        outbox: &[Envelope],
        refusal: fn(bool) -> StoreError,
    ) -> Result<Committed<()>, StoreError> {
        let (registration, outbox) = (registration.clone(), outbox.to_vec());
        self.run(move |conn| {
            let event_id = registration.event_id.to_string();
            // IMMEDIATE takes the write lock up front, so the condition and the insert
            // cannot interleave with another registration.
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let condition_held = tx.execute(condition, [&event_id]).map_err(unavailable)? == 1;
            let inserted = tx.execute(
                "INSERT INTO registrations
                   (id, event_id, email, status, sort_key, hold_expires_at, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    registration.id.to_string(),
                    event_id,
                    registration.email,
                    registration.status.as_str(),
                    sort_key(&registration),
                    hold_expiry(&registration),
                    to_json(&registration)?
                ],
            );
            match inserted {
                Err(e) if is_unique_violation(&e) => return Err(StoreError::DuplicateRegistration),
                other => other.map_err(unavailable)?,
            };
            if !condition_held {
                // Dropping the transaction rolls it back; say why the condition failed.
                let event: Option<(String, bool)> = tx
                    .query_row(
                        "SELECT status, json_extract(data, '$.waitlist_enabled') = 1
                         FROM events WHERE id = ?1",
                        [&event_id],
                        |row| Ok((row.get(0)?, row.get(1)?)),
                    )
                    .optional()
                    .map_err(unavailable)?;
                return Err(match event {
                    None => StoreError::EventNotFound,
                    Some((status, _)) if status != "PUBLISHED" => StoreError::EventNotOpen,
                    Some((_, waitlist_on)) => refusal(waitlist_on),
                });
            }
            commit(tx, (), outbox)
        })
        .await
    }
}

#[async_trait]
impl RegistrationStore for SqliteStore {
    async fn register(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        self.register_with(
            "UPDATE events SET confirmed = confirmed + 1
             WHERE id = ?1 AND status = 'PUBLISHED' AND confirmed < max_capacity
               AND NOT EXISTS (SELECT 1 FROM registrations
                               WHERE event_id = ?1 AND status = 'WAITLISTED')",
            registration,
            outbox,
            |_waitlist_on| StoreError::EventFull,
        )
        .await
    }

    async fn waitlist(
        &self,
        registration: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<()>, StoreError> {
        // A no-op UPDATE as a condition check: it matches only a published event with its
        // waitlist on that is full or has a queue already.
        self.register_with(
            "UPDATE events SET confirmed = confirmed
             WHERE id = ?1 AND status = 'PUBLISHED'
               AND json_extract(data, '$.waitlist_enabled') = 1
               AND (confirmed >= max_capacity
                    OR EXISTS (SELECT 1 FROM registrations
                               WHERE event_id = ?1 AND status = 'WAITLISTED'))",
            registration,
            outbox,
            |waitlist_on| {
                if waitlist_on {
                    StoreError::SeatAvailable
                } else {
                    StoreError::EventFull
                }
            },
        )
        .await
    }

    async fn registration(&self, id: RegistrationId) -> Result<Option<Registration>, StoreError> {
        self.get_json(
            "SELECT data FROM registrations WHERE id = ?1",
            id.to_string(),
        )
        .await
    }

    async fn cancel(
        &self,
        id: RegistrationId,
        at: OffsetDateTime,
        release_plan: &Release,
    ) -> Result<Committed<Cancellation>, StoreError> {
        let release_plan = release_plan.clone();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let before = registration_in(&tx, "id = ?1", [id.to_string()])?
                .ok_or(StoreError::RegistrationNotFound)?;
            before.refuse_cancel()?;
            require_open_event(&tx, before.event_id)?;
            let cancelled = before.cancelled(at);
            let promoted = release(&tx, &before, &cancelled, &release_plan.promotion, true)?;
            let outbox = cancellation_events(&before, promoted.as_ref(), release_plan.refund, at);
            commit(
                tx,
                Cancellation {
                    cancelled,
                    promoted,
                },
                outbox,
            )
        })
        .await
    }

    async fn promote(
        &self,
        event_id: EventId,
        promotion: &Promotion,
        at: OffsetDateTime,
    ) -> Result<Option<Committed<Registration>>, StoreError> {
        let promotion = promotion.clone();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let id = event_id.to_string();
            let Some(waiting) = first_waitlisted(&tx, &id)? else {
                return Ok(None);
            };
            let seat_taken = tx
                .execute(
                    "UPDATE events SET confirmed = confirmed + 1
                     WHERE id = ?1 AND status = 'PUBLISHED' AND confirmed < max_capacity",
                    [&id],
                )
                .map_err(unavailable)?
                == 1;
            if !seat_taken {
                return Ok(None);
            }
            let promoted = waiting.promoted(&promotion);
            set_registration(&tx, &promoted)?;
            let outbox = vec![promotion_event(&promoted, at)];
            commit(tx, promoted, outbox).map(Some)
        })
        .await
    }

    async fn update_details(
        &self,
        updated: &Registration,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError> {
        let (updated, outbox) = (updated.clone(), outbox.to_vec());
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let before = registration_in(&tx, "id = ?1", [updated.id.to_string()])?
                .ok_or(StoreError::RegistrationNotFound)?;
            if before.status == RegistrationStatus::Cancelled {
                return Err(Refusal::Cancelled.into());
            }
            require_open_event(&tx, before.event_id)?;
            let after = Registration {
                full_name: updated.full_name,
                phone: updated.phone,
                ..before
            };
            set_registration(&tx, &after)?;
            commit(tx, after, outbox)
        })
        .await
    }

    async fn check_in(
        &self,
        id: RegistrationId,
        event_id: EventId,
        at: OffsetDateTime,
        outbox: &[Envelope],
    ) -> Result<Committed<Registration>, StoreError> {
        let outbox = outbox.to_vec();
        self.run(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(unavailable)?;
            let registration = registration_in(
                &tx,
                "id = ?1 AND event_id = ?2",
                [id.to_string(), event_id.to_string()],
            )?
            .ok_or(StoreError::RegistrationNotFound)?;
            registration.refuse_check_in()?;
            require_open_event(&tx, event_id)?;
            let checked_in = registration.checked_in(at);
            set_registration(&tx, &checked_in)?;
            commit(tx, checked_in, outbox)
        })
        .await
    }

    async fn record_ticket(
        &self,
        registration: &Registration,
        ticket: &str,
        outbox: &[Envelope],
    ) -> Result<Committed<bool>, StoreError> {
        let id = registration.id;
        let (ticket, outbox) = (ticket.to_owned(), outbox.to_vec());
        self.run(move |conn| {
            let tx = conn.transaction().map_err(unavailable)?;
            let recorded = tx
                .execute(
                    "INSERT INTO tickets (registration_id, ticket)
                     SELECT r.id, ?2 FROM registrations r JOIN events e ON e.id = r.event_id
                     WHERE r.id = ?1 AND r.status = 'CONFIRMED' AND e.status = 'PUBLISHED'
                     ON CONFLICT (registration_id) DO NOTHING",
                    params![id.to_string(), ticket],
                )
                .map_err(unavailable)?
                == 1;
            if !recorded {
                return Ok(Committed::new(false, Vec::new()));
            }
            commit(tx, true, outbox)
        })
        .await
    }

    async fn ticket(&self, id: RegistrationId) -> Result<Option<String>, StoreError> {
        self.run(move |conn| {
            conn.query_row(
                "SELECT ticket FROM tickets WHERE registration_id = ?1",
                [id.to_string()],
                |row| row.get(0),
            )
            .optional()
            .map_err(unavailable)
        })
        .await
    }

    async fn registrations(
        &self,
        event_id: EventId,
        status: Option<RegistrationStatus>,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<Page<Registration>, StoreError> {
        let after = cursor
            .map(cursor::decode::<Resume>)
            .transpose()?
            .map(|resume| resume.after)
            .unwrap_or_default();
        self.run(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT data, sort_key FROM registrations
                     WHERE event_id = ?1 AND (?2 IS NULL OR status = ?2) AND sort_key > ?3
                     ORDER BY sort_key LIMIT ?4",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(
                    params![
                        event_id.to_string(),
                        status.map(RegistrationStatus::as_str),
                        after,
                        limit as i64 + 1
                    ],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
                .map_err(unavailable)?;
            let mut items = Vec::with_capacity(limit + 1);
            for row in rows {
                let (data, sort_key) = row.map_err(unavailable)?;
                items.push((
                    from_json::<Registration>(&data)?,
                    Resume { after: sort_key },
                ));
            }
            page_of(items, limit)
        })
        .await
    }

    async fn revocations(
        &self,
        event_id: EventId,
        after: Option<Revocation>,
        limit: usize,
    ) -> Result<Vec<Revocation>, StoreError> {
        // Every `<time>#<id>` key sorts after the empty string.
        let after = after.map(revoked_key).unwrap_or_default();
        self.run(move |conn| {
            let mut statement = conn
                .prepare_cached(
                    "SELECT data FROM registrations
                     WHERE event_id = ?1 AND revoked_key > ?2
                     ORDER BY revoked_key LIMIT ?3",
                )
                .map_err(unavailable)?;
            let rows = statement
                .query_map(params![event_id.to_string(), after, limit as i64], |row| {
                    row.get::<_, String>(0)
                })
                .map_err(unavailable)?;
            let mut revocations = Vec::with_capacity(limit);
            for row in rows {
                let registration: Registration = from_json(&row.map_err(unavailable)?)?;
                revocations.extend(registration.revocation());
            }
            Ok(revocations)
        })
        .await
    }
}
