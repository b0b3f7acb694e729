//! The attendee's side under concurrency and attack, in both modes (route handlers over the
//! emulator as API Gateway invokes them; the embedded dev server over real HTTP): check-in
//! at the door, forged tickets, Idempotency-Key retries, manage-token access.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use evreg::domain::{EventId, RegistrationId};
use evreg::tickets::{verify_ticket, AttendeeKeys, TicketPublicKey};
use evreg_tests::api::{create_event, new_organizer, Api, ApiRequest, Reply};
use evreg_tests::apps::TestApp;
use http::Method;
use serde_json::{json, Value};
use uuid::Uuid;

evreg_tests::both_modes!("attendee":
    checkins_create => [
        fifty_scans_of_one_ticket_check_in_once,
        forged_and_foreign_tickets_are_refused,
    ],
    registrations_create => [concurrent_retries_with_one_idempotency_key_register_once],
    registrations_get => [only_the_manage_token_or_the_organizer_reach_a_registration],
    events_revocations => [a_cancelled_ticket_reaches_the_door_list_once_synced],
);

struct Setup {
    organizer: String,
    event_id: String,
}

async fn published_event(api: &dyn Api, capacity: u32) -> Setup {
    let organizer = new_organizer(api).await;
    let event_id = create_event(
        api,
        &organizer,
        json!({ "max_capacity": capacity, "waitlist_enabled": true }),
    )
    .await;
    Setup {
        organizer,
        event_id: event_id.to_string(),
    }
}

async fn register(api: &dyn Api, event_id: &str, email: &str) -> Reply {
    let reply = api
        .post(
            &format!("/events/{event_id}/registrations"),
            None,
            json!({ "email": email, "full_name": "Ann Lee" }),
        )
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.body);
    reply
}

fn id_of<I: std::str::FromStr>(reply: &Reply) -> I {
    reply.body["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("an id")
}

fn scan(ticket: &str) -> ApiRequest {
    ApiRequest::new(Method::POST, "/checkins").json(json!({ "ticket": ticket }))
}

/// 50 door devices scan one ticket at once: exactly one is let in; the other 49 are told
/// when the first scan happened.
async fn fifty_scans_of_one_ticket_check_in_once(app: TestApp) {
    let (api, ctx) = (app.api.clone(), app.ctx.clone());
    let setup = published_event(api.as_ref(), 10).await;
    let registration = register(api.as_ref(), &setup.event_id, "door@example.org").await;
    let event_id: EventId = setup.event_id.parse().expect("uuid");
    // The payload the tickets worker puts in the QR (deterministic for the registration).
    let ticket = ctx
        .attendee_keys
        .issue_ticket(event_id, id_of(&registration));

    let scans: Vec<_> = (0..50)
        .map(|_| {
            let (api, request) = (api.clone(), scan(&ticket).bearer(&setup.organizer));
            tokio::spawn(async move { api.send(request).await })
        })
        .collect();
    let mut replies = Vec::new();
    for scan in scans {
        replies.push(scan.await.expect("scan task"));
    }
    let admitted: Vec<_> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(admitted.len(), 1, "exactly one scan admits");
    assert_eq!(admitted[0].body["full_name"], "Ann Lee");
    assert_eq!(admitted[0].body["status"], "CHECKED_IN");
    let first_scan = &admitted[0].body["checked_in_at"];
    let refused: Vec<_> = replies.iter().filter(|r| r.status == 409).collect();
    assert_eq!(refused.len(), 49);
    assert!(refused
        .iter()
        .all(|r| r.code() == "already_checked_in" && &r.body["checked_in_at"] == first_scan));

    // Door staff need a role: anonymous scans are refused before anything is recorded.
    assert_eq!(api.send(scan(&ticket)).await.status, 401);

    // A door device whose answer was lost sends its scan again with the scan's key: the
    // first answer comes back, not a conflict with itself.
    let other = register(api.as_ref(), &setup.event_id, "retry@example.org").await;
    let retried = scan(&ctx.attendee_keys.issue_ticket(event_id, id_of(&other)))
        .bearer(&setup.organizer)
        .header("idempotency-key", "scan-0190d3a4-retry");
    let first = api.send(retried.clone()).await;
    let again = api.send(retried).await;
    assert_eq!((first.status, again.status), (200, 200), "{:?}", again.body);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
}

/// A door device verifies offline with only the event's public key; the server refuses
/// anything that does not verify or belongs elsewhere, and records nothing.
async fn forged_and_foreign_tickets_are_refused(app: TestApp) {
    let (api, ctx) = (app.api.clone(), app.ctx.clone());
    let setup = published_event(api.as_ref(), 10).await;
    let other = published_event(api.as_ref(), 10).await;
    let registration = register(api.as_ref(), &setup.event_id, "door@example.org").await;
    let (event_id, registration_id): (EventId, RegistrationId) =
        (setup.event_id.parse().expect("uuid"), id_of(&registration));
    let ticket = ctx.attendee_keys.issue_ticket(event_id, registration_id);

    let key = api
        .get(&format!("/events/{}/ticket-key", setup.event_id), None)
        .await;
    assert_eq!(
        (key.status, &key.body["algorithm"]),
        (200, &json!("Ed25519"))
    );
    let public_key = TicketPublicKey::from_base64url(key.body["public_key"].as_str().expect("key"))
        .expect("a public key");
    let claims = verify_ticket(&ticket, &public_key).expect("verifies offline");
    assert_eq!(
        (claims.event_id, claims.registration_id),
        (event_id, registration_id)
    );

    let (prefix, encoded) = ticket.split_once('.').expect("EVR1.<payload>");
    let bytes = URL_SAFE_NO_PAD.decode(encoded).expect("base64url");
    let reencode = |bytes: &[u8]| format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(bytes));
    let mut flipped = bytes.clone();
    flipped[20] ^= 0x01;
    // The other event's ticket, relabelled as this event's: its signature is the other key's.
    let foreign = ctx
        .attendee_keys
        .issue_ticket(other.event_id.parse().expect("uuid"), registration_id);
    let mut relabelled = URL_SAFE_NO_PAD
        .decode(foreign.split_once('.').expect("payload").1)
        .expect("base64url");
    relabelled[..16].copy_from_slice(event_id.as_uuid().as_bytes());
    // A well-formed ticket from someone else's secret (another deployment, an attacker).
    let stranger = AttendeeKeys::generate().issue_ticket(event_id, registration_id);

    let cases: [(&str, String, u16, &str); 6] = [
        ("flipped byte", reencode(&flipped), 422, "invalid_ticket"),
        ("relabelled", reencode(&relabelled), 422, "invalid_ticket"),
        ("other secret", stranger, 422, "invalid_ticket"),
        (
            "truncated",
            ticket[..ticket.len() - 4].to_owned(),
            400,
            "malformed_ticket",
        ),
        ("not a ticket", "hello".to_owned(), 400, "malformed_ticket"),
        ("empty", String::new(), 400, "malformed_ticket"),
    ];
    for (case, forged, status, code) in cases {
        assert!(
            verify_ticket(&forged, &public_key).is_err(),
            "{case}: verifies offline"
        );
        let reply = api.send(scan(&forged).bearer(&setup.organizer)).await;
        assert_eq!((reply.status, reply.code()), (status, code), "{case}");
    }
    // A genuine ticket shown at another event's door.
    let wrong_door = api
        .send(
            ApiRequest::new(Method::POST, "/checkins")
                .bearer(&setup.organizer)
                .json(json!({ "ticket": ticket, "event_id": other.event_id })),
        )
        .await;
    assert_eq!((wrong_door.status, wrong_door.code()), (422, "wrong_event"));
    // Organizers check in their own events only.
    let stranger_organizer = new_organizer(api.as_ref()).await;
    let not_theirs = api.send(scan(&ticket).bearer(&stranger_organizer)).await;
    assert_eq!(not_theirs.status, 403);

    let unchanged = ctx
        .registrations
        .registration(registration_id)
        .await
        .expect("store")
        .expect("registration");
    assert_eq!(
        unchanged.checked_in_at, None,
        "no refused scan was recorded"
    );
    let admitted = api.send(scan(&ticket).bearer(&setup.organizer)).await;
    assert_eq!(admitted.status, 200, "{:?}", admitted.body);
}

/// A client retrying one registration 20 times at once with one Idempotency-Key gets one
/// registration and one answer, however the retries interleave.
async fn concurrent_retries_with_one_idempotency_key_register_once(app: TestApp) {
    let (api, ctx) = (app.api.clone(), app.ctx.clone());
    let setup = published_event(api.as_ref(), 10).await;
    let path = format!("/events/{}/registrations", setup.event_id);
    let key = Uuid::new_v4().to_string();
    let body = json!({ "email": "retry@example.org", "full_name": "Rita Retry" });
    let request = ApiRequest::new(Method::POST, path.as_str())
        .header("idempotency-key", key.as_str())
        .json(body.clone());

    let retries: Vec<_> = (0..20)
        .map(|_| {
            let (api, request) = (api.clone(), request.clone());
            tokio::spawn(async move { until_settled(api.as_ref(), request).await })
        })
        .collect();
    let mut answers: HashMap<String, usize> = HashMap::new();
    for retry in retries {
        let reply = retry.await.expect("retry task");
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        *answers.entry(reply.body.to_string()).or_default() += 1;
    }
    assert_eq!(
        answers.len(),
        1,
        "every retry got the first answer: {answers:?}"
    );
    let event_id: EventId = setup.event_id.parse().expect("uuid");
    let page = ctx
        .registrations
        .registrations(event_id, None, 10, None)
        .await
        .expect("listing");
    assert_eq!(page.items.len(), 1, "one registration was written");

    let replayed = api.send(request.clone()).await;
    assert_eq!(replayed.header("idempotent-replayed"), Some("true"));
    let changed = api
        .send(
            ApiRequest::new(Method::POST, path.as_str())
                .header("idempotency-key", key.as_str())
                .json(json!({ "email": "other@example.org", "full_name": "Other" })),
        )
        .await;
    assert_eq!(
        (changed.status, changed.code()),
        (422, "idempotency_key_reused")
    );
    // Refusals are answers too: a retried duplicate is the same 409, not a new write.
    let dup_key = Uuid::new_v4().to_string();
    let duplicate = ApiRequest::new(Method::POST, path.as_str())
        .header("idempotency-key", dup_key.as_str())
        .json(body);
    let first = api.send(duplicate.clone()).await;
    let again = api.send(duplicate).await;
    assert_eq!(
        (first.status, first.code()),
        (409, "duplicate_registration")
    );
    assert_eq!((again.status, again.body), (first.status, first.body));
    let blank = api
        .send(ApiRequest::new(Method::POST, path.as_str()).header("idempotency-key", " "))
        .await;
    assert_eq!((blank.status, blank.code()), (400, "invalid_header"));
}

/// What a well-behaved client does with `409 request_in_progress`: wait as told, retry.
async fn until_settled(api: &dyn Api, request: ApiRequest) -> Reply {
    loop {
        let reply = api.send(request.clone()).await;
        if reply.code() != "request_in_progress" {
            return reply;
        }
        assert!(reply.header("retry-after").is_some());
        // Retry-After says 1 s; a test client may be more eager.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

async fn only_the_manage_token_or_the_organizer_reach_a_registration(app: TestApp) {
    let api = app.api.clone();
    let setup = published_event(api.as_ref(), 10).await;
    let registration = register(api.as_ref(), &setup.event_id, "own@example.org").await;
    let other = register(api.as_ref(), &setup.event_id, "other@example.org").await;
    let id = registration.body["id"].as_str().expect("id");
    let token = registration.body["manage_token"].as_str().expect("token");
    let other_token = other.body["manage_token"].as_str().expect("token");
    let path = format!("/registrations/{id}");

    let by_link = api.get(&format!("{path}?token={token}"), None).await;
    assert_eq!(
        (by_link.status, &by_link.body["email"]),
        (200, &json!("own@example.org"))
    );
    assert!(by_link.body.get("manage_token").is_none());
    let anonymous = api.get(&path, None).await;
    assert_eq!(anonymous.status, 401);
    let borrowed = api.get(&format!("{path}?token={other_token}"), None).await;
    assert_eq!(
        borrowed.status, 403,
        "one attendee's token opens only their registration"
    );
    let organizer = api.get(&path, Some(&setup.organizer)).await;
    assert_eq!(organizer.status, 200);
    let stranger = new_organizer(api.as_ref()).await;
    assert_eq!(api.get(&path, Some(&stranger)).await.status, 403);
    let unknown = api
        .get(
            &format!("/registrations/{}?token={token}", Uuid::now_v7()),
            None,
        )
        .await;
    assert_eq!(unknown.status, 404);

    let listed = api
        .get(
            &format!("/events/{}/registrations?status=CONFIRMED", setup.event_id),
            Some(&setup.organizer),
        )
        .await;
    assert_eq!(listed.status, 200, "{:?}", listed.body);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        api.get(
            &format!("/events/{}/registrations", setup.event_id),
            Some(&stranger)
        )
        .await
        .status,
        403
    );
    let csv = api
        .send(
            ApiRequest::new(
                Method::GET,
                format!("/events/{}/registrations", setup.event_id),
            )
            .bearer(&setup.organizer)
            .header("accept", "text/csv"),
        )
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/csv")));
    let text = String::from_utf8(csv.bytes.clone()).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,email,full_name,phone,status,created_at,checked_in_at")
    );
    assert_eq!(
        lines.filter(|line| line.contains("@example.org")).count(),
        2
    );

    let cancel = ApiRequest::new(Method::DELETE, path.as_str()).header("x-manage-token", token);
    let cancelled = api.send(cancel.clone()).await;
    assert_eq!(
        (cancelled.status, &cancelled.body["status"]),
        (200, &json!("CANCELLED"))
    );
    let twice = api.send(cancel).await;
    assert_eq!((twice.status, twice.code()), (409, "already_cancelled"));
    let again: Value = register(api.as_ref(), &setup.event_id, "own@example.org")
        .await
        .body;
    assert_eq!(
        again["status"], "CONFIRMED",
        "a cancelled email may register again"
    );
}

/// Door devices sync an event's revocation list: a cancellation reaches it, a long list
/// pages, the cursor is the list's own, and the end of a sync rewinds over the last minutes
/// (a cancellation still committing is read again rather than skipped).
async fn a_cancelled_ticket_reaches_the_door_list_once_synced(app: TestApp) {
    let api = app.api.clone();
    let setup = published_event(api.as_ref(), 10).await;
    let other = published_event(api.as_ref(), 10).await;
    let list = format!("/events/{}/revocations", setup.event_id);
    let sync = |query: String| {
        let api = api.clone();
        let organizer = setup.organizer.clone();
        let path = format!("{list}{query}");
        async move { api.get(&path, Some(&organizer)).await }
    };
    let ids = |reply: &Reply| -> Vec<String> {
        reply.body["revocations"]
            .as_array()
            .expect("revocations")
            .iter()
            .map(|entry| entry["registration_id"].as_str().expect("id").to_owned())
            .collect()
    };

    let empty = sync(String::new()).await;
    assert_eq!(empty.status, 200, "{:?}", empty.body);
    assert_eq!(
        (
            &empty.body["event_status"],
            &empty.body["has_more"],
            ids(&empty).len()
        ),
        (&json!("PUBLISHED"), &json!(false), 0)
    );
    let first_cursor = empty.body["next_cursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();

    let mut cancelled = Vec::new();
    for email in ["ann@example.org", "bo@example.org"] {
        let reply = register(api.as_ref(), &setup.event_id, email).await;
        let id: String = id_of::<RegistrationId>(&reply).to_string();
        let token = reply.body["manage_token"]
            .as_str()
            .expect("token")
            .to_owned();
        let cancel = ApiRequest::new(Method::DELETE, format!("/registrations/{id}"))
            .header("x-manage-token", &token);
        assert_eq!(api.send(cancel).await.status, 200);
        cancelled.push(id);
    }
    register(api.as_ref(), &setup.event_id, "cy@example.org").await;

    let synced = sync(format!("?since={first_cursor}")).await;
    assert_eq!(synced.status, 200, "{:?}", synced.body);
    assert_eq!(ids(&synced), cancelled, "in cancellation order; cy is live");
    assert!(synced.body["revocations"][0]["revoked_at"].is_string());

    // One at a time: the first page says there is more and resumes exactly after it.
    let page = sync("?limit=1".into()).await;
    assert_eq!(
        (ids(&page), &page.body["has_more"]),
        (vec![cancelled[0].clone()], &json!(true))
    );
    let next = page.body["next_cursor"].as_str().expect("cursor");
    let last = sync(format!("?limit=1&since={next}")).await;
    assert_eq!(
        (ids(&last), &last.body["has_more"]),
        (vec![cancelled[1].clone()], &json!(false))
    );
    // The end of a sync rewinds: both cancellations are minutes old at most, so a device
    // resuming there hears of them again (and keeps a set).
    let end = last.body["next_cursor"].as_str().expect("cursor");
    assert_eq!(ids(&sync(format!("?since={end}")).await), cancelled);

    // A cursor is this list's: forged, altered, or another event's is a 400.
    let foreign = api
        .get(
            &format!("/events/{}/revocations", other.event_id),
            Some(&other.organizer),
        )
        .await;
    let foreign = foreign.body["next_cursor"].as_str().expect("cursor");
    for bad in [foreign, "not-a-cursor", &end[1..]] {
        let refused = sync(format!("?since={bad}")).await;
        assert_eq!(
            (refused.status, refused.code()),
            (400, "invalid_query"),
            "{bad}"
        );
    }
    // Door staff of another organizer's event are not this organizer.
    let stranger = api.get(&list, Some(&other.organizer)).await;
    assert_eq!(stranger.status, 403);
    assert_eq!(api.get(&list, None).await.status, 401);
}
