//! One end-to-end scenario, two modes: API Gateway events into the route handlers over
//! DynamoDB and SNS → SQS (emulator), polled into the projection worker as Lambda's event
//! source mapping would; and real HTTP against the embedded dev server.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use evreg::domain::{EventId, RegistrationId, RegistrationStatus};
use evreg_tests::api::{new_organizer, Api, ApiRequest};
use evreg_tests::apps::{embedded_over_http, AwsApp};
use http::Method;
use serde_json::json;
use uuid::Uuid;

const CAPACITY: usize = 5;
const ATTEMPTS: usize = 20;
const DUPLICATED: usize = 3;

/// signup → login → create an event of capacity 5 → 20 concurrent registrations, 3 of them
/// repeating an email → exactly 5 confirmed, the rest refused with 409 → once `settle` has
/// let the workers run, the read model shows 5 registered.
async fn registration_scenario<S, F>(api: Arc<dyn Api>, settle: S)
where
    S: Fn() -> F,
    F: Future<Output = ()>,
{
    let email = format!("organizer-{}@example.org", Uuid::new_v4().simple());
    let signup = api
        .post(
            "/auth/signup",
            None,
            json!({ "email": email, "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(signup.status, 201, "{:?}", signup.body);
    assert_eq!(signup.body["role"], "ORGANIZER");

    let login = api
        .post(
            "/auth/login",
            None,
            json!({ "email": email.to_uppercase(), "password": "correct horse battery" }),
        )
        .await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.body["token_type"], "Bearer");
    let token = login.body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();

    let wrong = api
        .post(
            "/auth/login",
            None,
            json!({ "email": email, "password": "wrong horse battery" }),
        )
        .await;
    assert_eq!((wrong.status, wrong.code()), (401, "invalid_credentials"));

    let me = api.get("/me", Some(&token)).await;
    assert_eq!(
        (me.status, me.body["email"].as_str()),
        (200, Some(email.as_str()))
    );

    let created = api
        .post(
            "/events",
            Some(&token),
            json!({
                "name": "Rust Meetup", "date": "2027-03-01T18:00:00Z", "venue": "Hall A",
                "max_capacity": CAPACITY, "status": "PUBLISHED"
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let event_id = created.body["id"].as_str().expect("event id").to_owned();

    let emails: Vec<String> = (0..ATTEMPTS)
        .map(|i| format!("Attendee{}@Example.org", i % (ATTEMPTS - DUPLICATED)))
        .collect();
    let attempts = emails.iter().map(|email| {
        let api = api.clone();
        let path = format!("/events/{event_id}/registrations");
        let body = json!({ "email": email, "full_name": "Attendee" });
        tokio::spawn(async move { api.post(&path, None, body).await })
    });
    let mut confirmed_by_email: HashMap<String, usize> = HashMap::new();
    let mut refusals: HashMap<String, usize> = HashMap::new();
    for (email, attempt) in emails.iter().zip(attempts) {
        let reply = attempt.await.expect("request task");
        match reply.status {
            201 => {
                assert_eq!(reply.body["status"], "CONFIRMED");
                assert_eq!(reply.body["email"], email.to_lowercase());
                *confirmed_by_email.entry(email.to_lowercase()).or_default() += 1;
            }
            409 => *refusals.entry(reply.code().to_owned()).or_default() += 1,
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }
    assert_eq!(
        confirmed_by_email.len(),
        CAPACITY,
        "exactly capacity confirmed"
    );
    assert!(
        confirmed_by_email.values().all(|&n| n == 1),
        "no email confirmed twice"
    );
    let refused: usize = refusals.values().sum();
    assert_eq!(refused, ATTEMPTS - CAPACITY);
    let codes: HashSet<&str> = refusals.keys().map(String::as_str).collect();
    assert!(
        codes.is_subset(&HashSet::from(["event_full", "duplicate_registration"])),
        "{refusals:?}"
    );

    // A repeat of a confirmed email is refused as a duplicate, deterministically.
    let confirmed_email = confirmed_by_email.keys().next().expect("one confirmed");
    let again = api
        .post(
            &format!("/events/{event_id}/registrations"),
            None,
            json!({ "email": confirmed_email, "full_name": "Again" }),
        )
        .await;
    assert_eq!(
        (again.status, again.code()),
        (409, "duplicate_registration")
    );

    settle().await;

    let event = api.get(&format!("/events/{event_id}"), None).await;
    assert_eq!(event.status, 200);
    assert_eq!(
        event.body["registered"], CAPACITY,
        "the read model counted every confirmation once"
    );
    let listing = api.get("/events?limit=100", None).await;
    let listed = listing.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["id"] == event_id.as_str())
        .expect("the published event is listed");
    assert_eq!(listed["registered"], CAPACITY);
}

/// Contention with a waitlist: 200 concurrent registrations, 20 of them repeating an email,
/// for 50 seats → exactly 50 confirmed, every other unique email waitlisted, every repeat
/// refused; then 10 concurrent cancellations → exactly 10 promotions, FIFO, still 50 seats
/// taken; the seat counter, the registrations and the read model agree.
async fn waitlist_contention_scenario<S, F>(
    api: Arc<dyn Api>,
    ctx: Arc<evreg::AppContext>,
    settle: S,
) where
    S: Fn() -> F,
    F: Future<Output = ()>,
{
    const SEATS: usize = 50;
    const REQUESTS: usize = 200;
    const REPEATS: usize = 20;
    const CANCELLATIONS: usize = 10;
    let token = new_organizer(api.as_ref()).await;
    let created = api
        .post(
            "/events",
            Some(&token),
            json!({ "name": "Popular", "date": "2027-05-01T18:00:00Z", "venue": "Arena",
                    "max_capacity": SEATS, "status": "PUBLISHED", "waitlist_enabled": true }),
        )
        .await;
    let event_id = created.body["id"].as_str().expect("event id").to_owned();

    let attempts: Vec<_> = (0..REQUESTS)
        .map(|i| {
            let api = api.clone();
            let path = format!("/events/{event_id}/registrations");
            let body = json!({ "email": format!("fan{}@example.org", i % (REQUESTS - REPEATS)), "full_name": "Fan" });
            tokio::spawn(async move { api.post(&path, None, body).await })
        })
        .collect();
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    let mut seats = Vec::new();
    for attempt in attempts {
        let reply = attempt.await.expect("request task");
        let outcome = match reply.status {
            201 => reply.body["status"].as_str().unwrap_or_default().to_owned(),
            409 => reply.code().to_owned(),
            other => panic!("unexpected {other}: {:?}", reply.body),
        };
        if outcome == "CONFIRMED" {
            seats.push((
                reply.body["id"].as_str().expect("id").to_owned(),
                reply.body["manage_token"]
                    .as_str()
                    .expect("token")
                    .to_owned(),
            ));
        }
        *outcomes.entry(outcome).or_default() += 1;
    }
    let waitlisted = REQUESTS - REPEATS - SEATS;
    let expected = HashMap::from([
        ("CONFIRMED".to_owned(), SEATS),
        ("WAITLISTED".to_owned(), waitlisted),
        ("duplicate_registration".to_owned(), REPEATS),
    ]);
    assert_eq!(outcomes, expected);
    let id: EventId = event_id.parse().expect("uuid");
    assert_eq!(
        ctx.events.confirmed_count(id).await.unwrap() as usize,
        SEATS,
        "the seat counter agrees"
    );
    let queue_before = by_status(&ctx, id, RegistrationStatus::Waitlisted).await;

    // 10 attendees cancel at once, with their manage tokens: each seat passes to the head
    // of the waitlist, so exactly 10 are promoted, in order, and no seat is ever free.
    let cancellations: Vec<_> = seats[..CANCELLATIONS]
        .iter()
        .map(|(registration, token)| {
            let api = api.clone();
            let request = ApiRequest::new(Method::DELETE, format!("/registrations/{registration}"))
                .header("x-manage-token", token.as_str());
            tokio::spawn(async move { api.send(request).await })
        })
        .collect();
    for cancellation in cancellations {
        let reply = cancellation.await.expect("request task");
        assert_eq!(reply.status, 200, "{:?}", reply.body);
        assert_eq!(reply.body["status"], "CANCELLED");
    }
    let confirmed = by_status(&ctx, id, RegistrationStatus::Confirmed).await;
    let still_waiting = by_status(&ctx, id, RegistrationStatus::Waitlisted).await;
    let cancelled = by_status(&ctx, id, RegistrationStatus::Cancelled).await;
    assert_eq!(
        confirmed.len(),
        SEATS,
        "every released seat was taken again"
    );
    assert_eq!(cancelled.len(), CANCELLATIONS);
    assert_eq!(
        still_waiting,
        queue_before[CANCELLATIONS..],
        "the first {CANCELLATIONS} in line were promoted, the rest keep their order"
    );
    assert!(queue_before[..CANCELLATIONS]
        .iter()
        .all(|promoted| confirmed.contains(promoted)));
    // The invariant: the seat counter is the number of seat-holding registrations.
    assert_eq!(
        ctx.events.confirmed_count(id).await.unwrap() as usize,
        confirmed.len()
    );

    settle().await;
    let event = api.get(&format!("/events/{event_id}"), None).await;
    assert_eq!(event.body["registered"], SEATS);
    assert_eq!(event.body["waitlisted"], waitlisted - CANCELLATIONS);
    assert_eq!(event.body["cancelled"], CANCELLATIONS);
}

/// The ids of the event's registrations in `status`, in the order they were made, from
/// the store's own listing (every page).
async fn by_status(
    ctx: &evreg::AppContext,
    event_id: EventId,
    status: RegistrationStatus,
) -> Vec<RegistrationId> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = ctx
            .registrations
            .registrations(event_id, Some(status), 100, cursor.as_deref())
            .await
            .expect("listing");
        ids.extend(page.items.iter().map(|r| r.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return ids,
        }
    }
}

#[tokio::test]
async fn aws_mode_registration_through_dynamodb_sns_sqs_and_the_projection_worker() {
    let Some(app) = AwsApp::start("e2e").await else {
        return;
    };
    let esm = app.projection_mapping().await;
    let api = app.api();

    registration_scenario(api, || async {
        // 1 EventCreated + 5 RegistrationConfirmed reach the projection queue (UserSignedUp
        // is filtered out by the subscription); delivery is at least once, so at least 6.
        assert!(esm.drain().await > CAPACITY);
    })
    .await;
    assert!(
        app.ctx.outbox.unpublished(10).await.unwrap().is_empty(),
        "every event was published"
    );
}

#[tokio::test]
async fn embedded_mode_registration_over_http_against_the_dev_server() {
    let (app, api, server) = embedded_over_http().await;
    registration_scenario(api, || app.bus.until_idle()).await;
    assert!(app.bus.dead_letters().await.unwrap().is_empty());
    server.abort();
}

/// Partial batch failures through the real queues: the good message of a batch is
/// processed and deleted once; the poison one is redelivered until the template's redrive
/// policy (maxReceiveCount 5) moves it to the dead-letter queue, where it stays visible.
#[tokio::test]
async fn aws_mode_a_poison_message_ends_in_the_dead_letter_queue_alone() {
    let Some(app) = AwsApp::start("dlq").await else {
        return;
    };
    let queue = app.projection_queue().to_owned();
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let event_id = EventId::now_v7();
    let good = json!({
        "id": Uuid::now_v7(), "occurred_at": "2026-11-22T18:00:00Z",
        "event": { "type": "RegistrationConfirmed", "data": { "registration": {
            "id": Uuid::now_v7(), "event_id": event_id, "email": "a@x.org", "full_name": "A",
            "phone": null, "status": "CONFIRMED", "created_at": "2026-11-22T18:00:00Z" } } }
    });
    for body in [good.to_string(), "poison".to_owned()] {
        sqs.send_message()
            .queue_url(&queue)
            .message_body(body)
            .send()
            .await
            .expect("send");
    }

    let esm = app.projection_mapping().await.with_immediate_retries();
    let mut deliveries = 0;
    loop {
        match esm.poll_once().await {
            (0, _) => break,
            (received, failed) => {
                deliveries += received;
                assert!(failed <= 1, "only the poison message fails");
            }
        }
    }
    assert_eq!(
        deliveries,
        1 + 5,
        "the good message once, the poison one maxReceiveCount times"
    );
    assert_eq!(
        app.ctx.read_model.stats(event_id).await.unwrap().registered,
        1
    );

    let dlq = app.resources.queues.get("ProjectionDLQ").expect("DLQ");
    let dead = sqs
        .receive_message()
        .queue_url(dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive from DLQ")
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some("poison"));
}

#[tokio::test]
async fn aws_mode_waitlist_under_contention() {
    let Some(app) = AwsApp::start("contention").await else {
        return;
    };
    let esm = app.projection_mapping().await;
    let api = app.api();
    waitlist_contention_scenario(api, app.ctx.clone(), || async {
        esm.drain().await;
    })
    .await;
}

#[tokio::test]
async fn embedded_mode_waitlist_under_contention_over_http() {
    let (app, api, server) = embedded_over_http().await;
    waitlist_contention_scenario(api, app.ctx.clone(), || app.bus.until_idle()).await;
    server.abort();
}
