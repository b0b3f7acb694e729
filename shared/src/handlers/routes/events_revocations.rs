//! GET /events/{id}/revocations — the event's revocation list for door devices (its owner,
//! ADMIN, STAFF): the registrations cancelled since `?since=`, so a device that verifies
//! tickets offline refuses a cancelled one although its signature is good. pretix's door
//! apps sync the same list ("revoked secrets").
//!
//! `200 {"event_id", "event_status", "revocations": [{"registration_id", "revoked_at"}],
//! "next_cursor", "has_more"}`: up to `limit` (1–1000, default 500) in cancellation order.
//! Without `since` the list starts at the beginning. `next_cursor` is always there: the
//! device stores it and passes it as `since` next time, at once while `has_more`. Entries
//! may come again on a later sync (the cursor rewinds over the last few minutes, see
//! [`crate::domain::revocations_resume`]); a device keeps a set. `event_status` tells a
//! device its event was cancelled, which refuses every ticket. A `since` that is not a
//! cursor of this list is a 400.

use http::StatusCode;
use lambda_http::Request;
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Caller;
use crate::app::AppContext;
use crate::domain::{
    revocations_resume, sortable_time, EventId, EventStatus, RegistrationId, Revocation,
};
use crate::http::{json, page_limit, path, query_param, ApiError, ApiResult};

const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 1000;

#[derive(Serialize)]
struct RevocationList {
    event_id: EventId,
    event_status: EventStatus,
    revocations: Vec<Revocation>,
    next_cursor: String,
    has_more: bool,
}

/// Serves `GET /events/{id}/revocations` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let event_id: EventId = path(&req)?;
    let limit = page_limit(&req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let context = format!("revocations:{event_id}");
    let since = query_param::<String>(&req, "since")?
        .map(|signed| {
            ctx.cursors
                .open(&context, &signed)
                .and_then(|cursor| open_cursor(&cursor))
                .ok_or_else(|| ApiError::BadQuery("since is not a cursor of this list".into()))
        })
        .transpose()?;

    let event = caller.event(ctx, event_id).await?;
    // The clock is read before the store, so the resume point is never later than the
    // read it follows.
    let now = ctx.clock.now();
    let mut revocations = ctx
        .registrations
        .revocations(event_id, since, limit + 1)
        .await?;
    let has_more = revocations.len() > limit;
    revocations.truncate(limit);
    let resume = revocations_resume(&revocations, has_more, now);

    json(
        StatusCode::OK,
        &RevocationList {
            event_id,
            event_status: event.status,
            revocations,
            next_cursor: ctx.cursors.sign(&context, &cursor_of(resume)),
            has_more,
        },
    )
}

/// `<RFC 3339 time>#<registration id>`, inside the signed cursor.
fn cursor_of(at: Revocation) -> String {
    format!("{}#{}", sortable_time(at.revoked_at), at.registration_id)
}

fn open_cursor(cursor: &str) -> Option<Revocation> {
    let (time, id) = cursor.split_once('#')?;
    Some(Revocation {
        revoked_at: OffsetDateTime::parse(time, &Rfc3339).ok()?,
        registration_id: id.parse::<RegistrationId>().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_what_they_wrote() {
        let at = Revocation {
            revoked_at: OffsetDateTime::from_unix_timestamp_nanos(1_790_000_000_123_456_789)
                .unwrap(),
            registration_id: RegistrationId::now_v7(),
        };
        assert_eq!(open_cursor(&cursor_of(at)), Some(at));
        for bad in [
            "",
            "#",
            "2026-01-01T00:00:00Z",
            "x#y",
            "2026-01-01T00:00:00Z#nope",
        ] {
            assert_eq!(open_cursor(bad), None, "{bad:?}");
        }
    }
}
