//! Injected AWS faults (`support/faults.rs`): DynamoDB throttles, cancelled transactions,
//! conflicts, 500s and dropped connections, SNS/S3/SES failing, between the SDK and the
//! emulator. The contention scenario at a 20 % fault rate still ends with exactly
//! `capacity` seats, a ticket and one confirmation mail per seat and an empty outbox, and
//! the API answers only 2xx, 409 or 503 with `Retry-After`; single faults show that the
//! SDK's retry configuration (not a hand loop) absorbs them, and what outlasts it is a 503.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use evreg::adapters::aws::sdk::MAX_ATTEMPTS;
use evreg::adapters::aws::table::CANCELLED_ATTEMPTS;
use evreg::domain::{EventId, RegistrationId, RegistrationStatus};
use evreg::secrets::Secrets;
use evreg::AppContext;
use evreg_tests::api::{Api, ApiRequest, Reply};
use evreg_tests::apps::AwsApp;
use evreg_tests::clock::LaterClock;
use evreg_tests::faults::{Call, Fault, Faults};
use evreg_tests::mailbox::sent_to;
use http::Method;
use serde_json::json;

const SEED: u64 = 20_250_610;
const RATE: f64 = 0.2;
const SEATS: usize = 8;
const FANS: usize = 24;
const REPEATS: usize = 4;
const CANCELLATIONS: usize = 3;
/// Answers of one request before the client gives up (each 503 is retried at once:
/// tests do not sleep, and the SDK's backoff already spaced the attempts).
const CLIENT_ATTEMPTS: usize = 25;

/// Every answer the API gave, by status; each 503 must carry `Retry-After`.
#[derive(Default)]
struct Answers(Mutex<BTreeMap<u16, usize>>);

impl Answers {
    /// Sends `request` until the answer is not a 503, as a client honouring
    /// `Retry-After` would; panics on any answer a fault must never cause.
    async fn decided(&self, api: &dyn Api, request: ApiRequest) -> Reply {
        for _ in 0..CLIENT_ATTEMPTS {
            let reply = api.send(request.clone()).await;
            *self.0.lock().unwrap().entry(reply.status).or_default() += 1;
            assert!(
                matches!(reply.status, 200..=299 | 409 | 503),
                "{} {} answered {}: {}",
                request.method,
                request.path,
                reply.status,
                reply.body
            );
            if reply.status != 503 {
                return reply;
            }
            assert!(reply.header("retry-after").is_some(), "a 503 says when");
        }
        panic!("{} {} stayed unavailable", request.method, request.path)
    }

    fn counts(&self) -> BTreeMap<u16, usize> {
        self.0.lock().unwrap().clone()
    }
}

fn post(path: impl Into<String>, body: serde_json::Value) -> ApiRequest {
    ApiRequest::new(Method::POST, path).json(body)
}

/// An organizer (signup, login) and a published event with a waitlist, through faults.
async fn organizer_event(api: &dyn Api, answers: &Answers) -> (String, EventId) {
    let email = format!("organizer-{}@example.org", uuid::Uuid::new_v4().simple());
    let credentials = json!({ "email": email, "password": "correct horse battery" });
    let signup = answers
        .decided(api, post("/auth/signup", credentials.clone()))
        .await;
    assert_eq!(signup.status, 201, "{}", signup.body);
    let login = answers.decided(api, post("/auth/login", credentials)).await;
    let token = login.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let created = answers
        .decided(
            api,
            post(
                "/events",
                json!({ "name": "Faulty", "date": "2027-06-01T18:00:00Z", "venue": "Hall",
                        "max_capacity": SEATS, "status": "PUBLISHED", "waitlist_enabled": true }),
            )
            .bearer(&token),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"]
        .as_str()
        .expect("id")
        .parse()
        .expect("uuid");
    (token, id)
}

/// Runs every worker over its queue until a whole round handles nothing, failed
/// messages coming back at once; sweeps the outbox (as the scheduled sweeper would,
/// past its grace period) until it is empty. Everything through the faults.
async fn settle_through_faults(app: &AwsApp) {
    let later = AppContext {
        clock: Arc::new(LaterClock(
            evreg::handlers::schedules::outbox_sweeper::SWEEP_GRACE + time::Duration::seconds(1),
        )),
        ..(*app.ctx).clone()
    };
    for _ in 0..20 {
        let mut handled = 0;
        for spec in evreg::handlers::workers::WORKERS {
            let mapping = app.mapping(spec.worker).await.with_immediate_retries();
            handled += mapping.drain().await;
        }
        let swept = evreg::handlers::schedules::outbox_sweeper::run(&later)
            .await
            .unwrap_or(1);
        if handled == 0 && swept == 0 {
            return;
        }
    }
    panic!("the workers and the sweeper never came to rest");
}

async fn by_status(
    ctx: &AppContext,
    event_id: EventId,
    status: RegistrationStatus,
) -> Vec<RegistrationId> {
    let page = ctx
        .registrations
        .registrations(event_id, Some(status), 100, None)
        .await
        .expect("listing");
    assert!(page.next_cursor.is_none());
    page.items.iter().map(|r| r.id).collect()
}

#[tokio::test]
async fn aws_mode_contention_under_a_fifth_of_calls_failing() {
    let faults = Faults::random(SEED, RATE);
    let Some(app) = AwsApp::start_with("faults", &Secrets::generate(), Some(faults.clone())).await
    else {
        return;
    };
    let api = app.api();
    let answers = Arc::new(Answers::default());
    let (_, event_id) = organizer_event(api.as_ref(), &answers).await;

    // Every fan registers at once, a few twice (another key); each client retries its
    // 503s with its own Idempotency-Key, so a retry never registers twice.
    // Addresses of this run alone: the emulator's mailbox keeps every run's mail.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let attempts: Vec<_> = (0..FANS + REPEATS)
        .map(|i| {
            let (api, answers) = (api.clone(), answers.clone());
            let request = post(
                format!("/events/{event_id}/registrations"),
                json!({ "email": format!("fan{}-{run}@example.org", i % FANS), "full_name": "Fan" }),
            )
            .header("idempotency-key", uuid::Uuid::new_v4().to_string());
            tokio::spawn(async move { answers.decided(api.as_ref(), request).await })
        })
        .collect();
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    let mut seats = Vec::new();
    for attempt in attempts {
        let reply = attempt.await.expect("request task");
        let outcome = match reply.status {
            201 => reply.body["status"].as_str().unwrap_or_default().to_owned(),
            _ => reply.code().to_owned(),
        };
        if outcome == "CONFIRMED" {
            let token = reply.body["manage_token"].as_str().expect("token");
            seats.push((
                reply.body["id"].as_str().expect("id").to_owned(),
                token.to_owned(),
            ));
        }
        *outcomes.entry(outcome).or_default() += 1;
    }
    let expected = HashMap::from([
        ("CONFIRMED".to_owned(), SEATS),
        ("WAITLISTED".to_owned(), FANS - SEATS),
        ("duplicate_registration".to_owned(), REPEATS),
    ]);
    assert_eq!(outcomes, expected);

    let cancellations: Vec<_> = seats[..CANCELLATIONS]
        .iter()
        .map(|(id, token)| {
            let (api, answers) = (api.clone(), answers.clone());
            let request = ApiRequest::new(Method::DELETE, format!("/registrations/{id}"))
                .header("x-manage-token", token.as_str());
            tokio::spawn(async move { answers.decided(api.as_ref(), request).await })
        })
        .collect();
    for cancellation in cancellations {
        let reply = cancellation.await.expect("request task");
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    settle_through_faults(&app).await;

    // The test's own view, without faults.
    let observer = &app.observer;
    let confirmed = by_status(observer, event_id, RegistrationStatus::Confirmed).await;
    assert_eq!(
        confirmed.len(),
        SEATS,
        "every released seat was taken again"
    );
    assert_eq!(
        observer.events.confirmed_count(event_id).await.unwrap() as usize,
        SEATS,
        "the seat counter agrees"
    );
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("the emulator's URL");
    for id in &confirmed {
        let registration = observer
            .registrations
            .registration(*id)
            .await
            .unwrap()
            .expect("a registration");
        assert!(
            observer.registrations.ticket(*id).await.unwrap().is_some(),
            "{id} has its ticket"
        );
        let tickets = sent_to(&endpoint, &registration.email)
            .await
            .into_iter()
            .filter(|mail| {
                mail.subject().is_some_and(|subject| {
                    subject.starts_with("You're in") || subject.starts_with("A seat is yours")
                })
            })
            .count();
        assert_eq!(tickets, 1, "{} got one ticket mail", registration.email);
    }
    assert!(
        observer.outbox.unpublished(10).await.unwrap().is_empty(),
        "nothing is left in the outbox"
    );
    let stats = observer.read_model.stats(event_id).await.unwrap();
    assert_eq!(stats.registered as usize, SEATS, "the read model agrees");

    let injected = faults.injected();
    let answers = answers.counts();
    eprintln!("faults injected: {injected:?}\nAPI answers by status: {answers:?}");
    for fault in [
        Fault::Throttling,
        Fault::ThroughputExceeded,
        Fault::CancelledThrottled,
        Fault::CancelledConflict,
        Fault::Conflict,
        Fault::ServerError,
        Fault::ServiceThrottled,
        Fault::Dropped,
    ] {
        assert!(
            injected.keys().any(|(_, kind)| *kind == fault),
            "{fault:?} was injected"
        );
    }
    for call in [Call::SnsPublish, Call::S3Put, Call::SesSend] {
        assert!(
            injected.keys().any(|(c, _)| *c == call),
            "{call:?} failed at times"
        );
    }
}

/// The app with nothing failing yet, an organizer's event, and its faults to arm.
async fn quiet_app(label: &str) -> Option<(AwsApp, Faults, String, EventId)> {
    let faults = Faults::none();
    let app = AwsApp::start_with(label, &Secrets::generate(), Some(faults.clone())).await?;
    let (token, event_id) = organizer_event(app.api().as_ref(), &Answers::default()).await;
    Some((app, faults, token, event_id))
}

fn register(event_id: EventId, email: &str) -> ApiRequest {
    post(
        format!("/events/{event_id}/registrations"),
        json!({ "email": email, "full_name": "Ann" }),
    )
}

#[tokio::test]
async fn aws_mode_a_throttle_the_sdk_retries_away_is_invisible() {
    let Some((app, faults, _, event_id)) = quiet_app("throttle-absorbed").await else {
        return;
    };
    let throttles = MAX_ATTEMPTS as usize - 1;
    faults.arm(
        Call::Dynamo("GetItem"),
        Fault::ThroughputExceeded,
        throttles,
    );
    let reply = app.api().send(register(event_id, "ann@example.org")).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(
        faults.attempts(Call::Dynamo("GetItem")),
        MAX_ATTEMPTS as usize,
        "the SDK retried the event's read until it passed"
    );
}

#[tokio::test]
async fn aws_mode_a_throttle_that_outlasts_the_sdk_retries_is_a_503_to_retry() {
    let Some((app, faults, _, event_id)) = quiet_app("throttle-503").await else {
        return;
    };
    faults.arm(Call::Dynamo("GetItem"), Fault::Throttling, usize::MAX);
    let reply = app.api().send(register(event_id, "ann@example.org")).await;
    assert_eq!((reply.status, reply.code()), (503, "unavailable"));
    assert_eq!(reply.header("retry-after"), Some("1"));
    assert_eq!(
        faults.attempts(Call::Dynamo("GetItem")),
        MAX_ATTEMPTS as usize,
        "exactly the SDK's attempts, no hand loop on top"
    );
    assert!(
        app.observer
            .outbox
            .unpublished(10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was written"
    );
}

#[tokio::test]
async fn aws_mode_a_transaction_cancelled_by_throttling_is_sent_again() {
    let Some((app, faults, _, event_id)) = quiet_app("cancelled-throttled").await else {
        return;
    };
    faults.arm(
        Call::Dynamo("TransactWriteItems"),
        Fault::CancelledThrottled,
        2,
    );
    let reply = app.api().send(register(event_id, "ann@example.org")).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["status"], "CONFIRMED");
    assert_eq!(faults.attempts(Call::Dynamo("TransactWriteItems")), 3);
    assert_eq!(
        app.observer.events.confirmed_count(event_id).await.unwrap(),
        1,
        "one seat, however often the transaction was sent"
    );
}

#[tokio::test]
async fn aws_mode_a_conflict_that_persists_is_a_503_busy() {
    let Some((app, faults, _, event_id)) = quiet_app("conflict-503").await else {
        return;
    };
    faults.arm(
        Call::Dynamo("TransactWriteItems"),
        Fault::CancelledConflict,
        usize::MAX,
    );
    let reply = app.api().send(register(event_id, "ann@example.org")).await;
    assert_eq!((reply.status, reply.code()), (503, "busy"));
    assert!(reply.header("retry-after").is_some());
    assert_eq!(
        faults.attempts(Call::Dynamo("TransactWriteItems")),
        CANCELLED_ATTEMPTS as usize,
        "the cancellation loop's attempts, each a new transaction"
    );
    assert_eq!(
        app.observer.events.confirmed_count(event_id).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn aws_mode_a_write_that_meets_a_transaction_is_retried_by_the_sdk() {
    let Some((app, faults, _, _)) = quiet_app("conflict").await else {
        return;
    };
    let email = format!("ann-{}@example.org", uuid::Uuid::new_v4().simple());
    let credentials = json!({ "email": email, "password": "correct horse battery" });
    let api = app.api();
    assert_eq!(
        api.post("/auth/signup", None, credentials.clone())
            .await
            .status,
        201
    );
    let login = api.post("/auth/login", None, credentials).await;
    let refresh = login.body["refresh_token"].as_str().expect("refresh token");

    // Logging out revokes the session's family with one UpdateItem, which DynamoDB
    // refuses while a transaction (a concurrent rotation) holds the item.
    faults.arm(Call::Dynamo("UpdateItem"), Fault::Conflict, 1);
    let logout = api
        .post("/auth/logout", None, json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(logout.status, 204, "{}", logout.body);
    assert_eq!(faults.attempts(Call::Dynamo("UpdateItem")), 2);
    let refreshed = api
        .post("/auth/refresh", None, json!({ "refresh_token": refresh }))
        .await;
    assert_eq!(refreshed.status, 401, "the family was revoked");
}
