//! Benchmark: time from registration to the confirmation email, in the AWS emulator.
//!
//! Against moto (`AWS_ENDPOINT_URL`), over freshly provisioned resources
//! ([`AwsApp::start`]): an organizer signs up and creates an event, then, one run at a time,
//! an attendee registers through the route Lambda's handler (`app.api()`) and the clock runs
//! until SES holds the confirmation mail for that attendee ([`sent_to`]). The pipeline is
//! driven as the tests drive it: the tickets worker's event source mapping is polled
//! (`poll_once`) until it has handled the RegistrationConfirmed message, then the email
//! worker's until the mail is in SES. Prints min / p50 / p90 / max over 20 runs (after one
//! warm-up run), for the whole and for each stage.
//!
//! This is the code path through a local, single-threaded emulator with a poller standing in
//! for Lambda's event source mapping; SQS → Lambda polling latency in AWS is not included.
//!
//! ```sh
//! scripts/venv.sh && .venv/bin/python scripts/moto_server.py 5641 &
//! AWS_ENDPOINT_URL=http://127.0.0.1:5641 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//!   AWS_REGION=us-east-1 cargo run -p evreg-tests --example bench_mail_latency
//! ```

use std::time::{Duration, Instant};

use evreg::handlers::workers::Worker;
use evreg_tests::apps::AwsApp;
use evreg_tests::mailbox::sent_to;
use serde_json::json;

const RUNS: usize = 20;
const WARM_UP: usize = 1;
const TIMEOUT: Duration = Duration::from_secs(60);

struct Run {
    /// POST /events/{id}/registrations until its 201.
    registered: Duration,
    /// From the 201 until the tickets worker has stored the ticket and published TicketIssued.
    ticket: Duration,
    /// From there until SES holds the mail.
    mail: Duration,
    /// From the POST until SES holds the mail.
    total: Duration,
    empty_polls: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "| {what} | {:.1} | {:.1} | {:.1} | {:.1} |",
        ms(times[0]),
        ms(percentile(&times, 50.0)),
        ms(percentile(&times, 90.0)),
        ms(times[times.len() - 1]),
    );
}

#[tokio::main]
async fn main() {
    let Some(app) = AwsApp::start("bench-mail").await else {
        eprintln!("AWS_ENDPOINT_URL is not set: start moto (scripts/moto_server.py) first");
        std::process::exit(2);
    };
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let api = app.api();
    let tickets = app.mapping(Worker::Tickets).await;
    let email = app.mapping(Worker::Email).await;

    let credentials = json!({ "email": format!("organizer@{}.example", app.resources.prefix), "password": "correct horse battery" });
    let signup = api.post("/auth/signup", None, credentials.clone()).await;
    assert_eq!(signup.status, 201, "{:?}", signup.body);
    let login = api.post("/auth/login", None, credentials).await;
    let token = login.body["access_token"].as_str().expect("access token");
    let created = api
        .post(
            "/events",
            Some(token),
            json!({ "name": "Mail latency", "date": "2030-01-01T18:00:00Z", "venue": "Emulator",
                    "max_capacity": 1000, "status": "PUBLISHED" }),
        )
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let event_id = created.body["id"].as_str().expect("event id").to_owned();
    let path = format!("/events/{event_id}/registrations");

    let mut runs = Vec::new();
    for i in 0..WARM_UP + RUNS {
        let attendee = format!(
            "attendee{i}@{}.example",
            app.resources.prefix.to_lowercase()
        );
        let started = Instant::now();
        let reply = api
            .post(
                &path,
                None,
                json!({ "email": attendee, "full_name": "Ann Lee" }),
            )
            .await;
        assert_eq!(reply.status, 201, "{:?}", reply.body);
        let registered = started.elapsed();

        let mut empty_polls = 0;
        loop {
            assert!(started.elapsed() < TIMEOUT, "no ticket for {attendee}");
            match tickets.poll_once().await {
                (0, _) => empty_polls += 1,
                (_, 0) => break,
                (_, failed) => panic!("the tickets worker failed {failed} message(s)"),
            }
        }
        let ticket_stored = started.elapsed();

        loop {
            assert!(started.elapsed() < TIMEOUT, "no mail for {attendee}");
            match email.poll_once().await {
                (0, _) => empty_polls += 1,
                (_, 0) if !sent_to(&endpoint, &attendee).await.is_empty() => break,
                (_, 0) => {}
                (_, failed) => panic!("the email worker failed {failed} message(s)"),
            }
        }
        let total = started.elapsed();
        if i >= WARM_UP {
            runs.push(Run {
                registered,
                ticket: ticket_stored - registered,
                mail: total - ticket_stored,
                total,
                empty_polls,
            });
        }
    }

    println!(
        "{RUNS} runs (after {WARM_UP} warm-up) against {endpoint}, resources {}",
        app.resources.prefix
    );
    println!();
    println!("| stage | min ms | p50 ms | p90 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    row(
        "registration → email in SES (total)",
        runs.iter().map(|r| r.total).collect(),
    );
    row(
        "POST registration → 201",
        runs.iter().map(|r| r.registered).collect(),
    );
    row(
        "201 → ticket stored (tickets worker done)",
        runs.iter().map(|r| r.ticket).collect(),
    );
    row(
        "ticket stored → email in SES",
        runs.iter().map(|r| r.mail).collect(),
    );
    let empty: usize = runs.iter().map(|r| r.empty_polls).sum();
    println!();
    println!("empty polls (a receive that found nothing yet): {empty} in {RUNS} runs");
}
