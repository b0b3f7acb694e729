//! Benchmark: the paid flow's two figures, side by side in one run for the embedded app
//! (SQLite, over HTTP) and, when `AWS_ENDPOINT_URL` is set, the AWS code paths on the
//! emulator (route handlers as API Gateway invokes them, DynamoDB through the SDK).
//!
//! - **webhook → confirmed**: per `POST /payments/webhook` carrying a signed
//!   `checkout.session.completed`, the time until its 200 `{"outcome": "confirmed"}` — the
//!   signature check, the dedupe claim and the conditional write that confirms the held
//!   seat with its outbox entries all happen inside that request. N paid holds, one at a
//!   time, after one warm-up.
//! - **expirer throughput**: N lapsed holds released by one run of the holds expirer
//!   (`holds_expirer::run` on a clock past the window): of one event with nobody waiting;
//!   of one event with N waiting, where every release also makes the head of the waitlist
//!   an offer; and the same spread over 10 events, whose holds the expirer releases
//!   [`holds_expirer::IN_FLIGHT`] events at a time.
//!
//! ```sh
//! cargo run -p evreg-tests --example bench_payments              # N = 100; `-- 200` for another N
//! # with the AWS column:
//! scripts/venv.sh && .venv/bin/python scripts/moto_server.py 5641 &
//! AWS_ENDPOINT_URL=http://127.0.0.1:5641 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//!   AWS_REGION=us-east-1 cargo run -p evreg-tests --example bench_payments
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use evreg::domain::{EventId, RegistrationId};
use evreg::handlers::schedules::holds_expirer;
use evreg::AppContext;
use evreg_tests::api::{create_event, deliver_webhook, new_organizer, Api};
use evreg_tests::apps::TestApp;
use evreg_tests::clock::LaterClock;
use serde_json::json;
use time::OffsetDateTime;

const WARM_UP: usize = 1;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A published paid event with `seats` and the waitlist on.
async fn paid_event(api: &dyn Api, owner: &str, seats: usize) -> EventId {
    let fields = json!({
        "price_cents": 1500, "currency": "EUR", "max_capacity": seats, "waitlist_enabled": true,
    });
    create_event(api, owner, fields).await
}

/// Registers `count` attendees; returns the ids, asserting each got `status`.
async fn register(
    api: &dyn Api,
    event_id: EventId,
    count: usize,
    status: &str,
) -> Vec<RegistrationId> {
    let mut ids = Vec::with_capacity(count);
    for _ in 0..count {
        let email = format!("bench-{}@example.org", uuid::Uuid::new_v4().simple());
        let reply = api
            .post(
                &format!("/events/{event_id}/registrations"),
                None,
                json!({ "email": email, "full_name": "Ann Lee" }),
            )
            .await;
        assert_eq!(reply.body["status"], status, "{:?}", reply.body);
        ids.push(reply.body["id"].as_str().unwrap().parse().unwrap());
    }
    ids
}

/// Webhook latencies of `n` holds paid one at a time (after the warm-up), sorted.
async fn webhook_latencies(app: &TestApp, owner: &str, n: usize) -> Vec<Duration> {
    let api = app.api.as_ref();
    let event_id = paid_event(api, owner, n + WARM_UP).await;
    let held = register(api, event_id, n + WARM_UP, "PENDING_PAYMENT").await;
    let mut times = Vec::with_capacity(n);
    for (i, id) in held.into_iter().enumerate() {
        let webhook = app.pay(id, OffsetDateTime::now_utc()).await;
        let started = Instant::now();
        let reply = deliver_webhook(api, &webhook).await;
        let took = started.elapsed();
        assert_eq!(reply.body["outcome"], "confirmed", "{:?}", reply.body);
        if i >= WARM_UP {
            times.push(took);
        }
    }
    times.sort();
    times
}

/// Holds released per second by one expirer run over `n` lapsed holds spread over
/// `events` events, `waiting` registrations queued behind each.
async fn expirer_throughput(
    app: &TestApp,
    owner: &str,
    n: usize,
    waiting: usize,
    events: usize,
) -> f64 {
    let api = app.api.as_ref();
    for _ in 0..events {
        let event_id = paid_event(api, owner, n / events).await;
        register(api, event_id, n / events, "PENDING_PAYMENT").await;
        register(api, event_id, waiting, "WAITLISTED").await;
    }
    let later = Arc::new(AppContext {
        clock: Arc::new(LaterClock(time::Duration::minutes(31))),
        ..(*app.ctx).clone()
    });
    let started = Instant::now();
    let released = holds_expirer::run(&later).await.expect("the expirer");
    let took = started.elapsed();
    assert_eq!(released, n / events * events);
    // Later runs of the expirer would otherwise find these holds (and the offers) due.
    app.settle().await;
    released as f64 / took.as_secs_f64()
}

/// The expirer's cases: (label, holds waiting behind each event, events).
const EXPIRER_CASES: [(&str, bool, usize); 3] = [
    ("one event, nobody waiting", false, 1),
    ("one event, each release promoting an offer", true, 1),
    ("10 events, each release promoting an offer", true, 10),
];

struct Figures {
    mode: &'static str,
    webhook: Vec<Duration>,
    /// Holds/s of each of [`EXPIRER_CASES`].
    expirer: Vec<f64>,
}

async fn measure(mode: &'static str, app: TestApp, n: usize) -> Figures {
    let owner = new_organizer(app.api.as_ref()).await;
    let webhook = webhook_latencies(&app, &owner, n).await;
    let mut expirer = Vec::new();
    for (_, waitlist, events) in EXPIRER_CASES {
        let waiting = if waitlist { n / events } else { 0 };
        expirer.push(expirer_throughput(&app, &owner, n, waiting, events).await);
    }
    Figures {
        mode,
        webhook,
        expirer,
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("N, a number of holds"))
        .unwrap_or(100);
    let mut figures = vec![
        measure(
            "embedded (SQLite, HTTP)",
            TestApp::embedded("bench-pay").await,
            n,
        )
        .await,
    ];
    match TestApp::aws("bench-pay").await {
        Some(app) => figures.push(measure("AWS on the emulator", app, n).await),
        None => eprintln!("AWS_ENDPOINT_URL is not set: the AWS column is left out"),
    }
    println!("N = {n} holds per figure\n");
    let cases: Vec<String> = EXPIRER_CASES
        .iter()
        .map(|(label, _, _)| format!("expirer holds/s: {label}"))
        .collect();
    println!(
        "| mode | webhook → confirmed p50 ms | p90 ms | max ms | {} |",
        cases.join(" | ")
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for f in figures {
        let expirer: Vec<String> = f.expirer.iter().map(|rate| format!("{rate:.0}")).collect();
        println!(
            "| {} | {:.1} | {:.1} | {:.1} | {} |",
            f.mode,
            ms(percentile(&f.webhook, 50.0)),
            ms(percentile(&f.webhook, 90.0)),
            ms(f.webhook[f.webhook.len() - 1]),
            expirer.join(" | ")
        );
    }
}
