//! Cold starts against the floor. Runs each route, worker and schedule bootstrap (release
//! builds of `functions/src/bin`, x86_64, locally) as Lambda runs them — one process with
//! its own Runtime API (`evreg_tests::runtime_api`), the template's environment, secrets in
//! SSM, against the AWS emulator — and measures, per function:
//!
//! - **init**: exec → the first `GET /runtime/invocation/next` (Lambda's init phase);
//! - **first**: the first invocation, from handing out the event to the posted answer;
//! - **warm p50/p99**: the following invocations of the same event;
//! - **peak RSS**: `VmHWM` of `/proc/<pid>/status` after them.
//!
//! Side by side, in the same run: `floor_hello` (a hello-world `lambda_runtime` function)
//! and `floor_sdk` (the same plus `aws_config::load_defaults` and two SDK clients), the
//! floor the targets are measured against (init ≤ 1.3 × `floor_sdk`, RSS ≤ 2 × `floor_sdk`).
//! With `--before DIR`, the bootstraps in DIR run too (another build of the same functions,
//! e.g. before a change). One process at a time; the functions take turns within each run,
//! in a rotated order, so drift on a shared machine spreads over all of them.
//!
//! ```sh
//! cargo build --release -p evreg-functions
//! cargo build --release -p evreg-functions --example floor_hello --example floor_sdk
//! AWS_ENDPOINT_URL=http://127.0.0.1:5641 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
//!   AWS_REGION=us-east-1 cargo run -p evreg-tests --example bench_cold_start -- \
//!   [--runs 5] [--warm 30] [--after target/release] [--floors AFTER/examples] \
//!   [--before DIR] [--only a,b] [--env KEY=VALUE]
//! ```
//!
//! Every request is made against the emulator over plain HTTP on 127.0.0.1: there is no
//! TLS handshake and no network latency here, which in AWS are most of what opening the
//! first connection at init saves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use evreg::domain::Role;
use evreg::handlers::routes::ROUTES;
use evreg::handlers::workers::WORKERS;
use evreg_tests::api::Reply;
use evreg_tests::esm::{batch_of, delete, queue_attribute, receive};
use evreg_tests::runtime_api::{Bootstrap, FunctionStack, Outcome};
use evreg_tests::samples::{replaced, sample, with_id};
use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(60);
const PASSWORD: &str = "correct horse battery";

struct Options {
    runs: usize,
    warm: usize,
    after: PathBuf,
    before: Option<PathBuf>,
    floors: PathBuf,
    only: Option<Vec<String>>,
    /// Extra environment for every process (`--env KEY=VALUE`, repeatable).
    env: Vec<(String, String)>,
}

fn options() -> Options {
    let workspace = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let release = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from)
        .join("release");
    let mut options = Options {
        runs: 5,
        warm: 30,
        floors: PathBuf::new(),
        after: release,
        before: None,
        only: None,
        env: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--runs" => options.runs = value().parse().expect("--runs N"),
            "--warm" => options.warm = value().parse().expect("--warm N"),
            "--after" => options.after = PathBuf::from(value()),
            "--before" => options.before = Some(PathBuf::from(value())),
            "--floors" => options.floors = PathBuf::from(value()),
            "--only" => options.only = Some(value().split(',').map(str::to_owned).collect()),
            "--env" => {
                let pair = value();
                let (key, value) = pair.split_once('=').expect("--env KEY=VALUE");
                options.env.push((key.to_owned(), value.to_owned()));
            }
            other => panic!("unknown argument {other}"),
        }
    }
    if options.floors.as_os_str().is_empty() {
        options.floors = options.after.join("examples");
    }
    options
}

/// One binary to measure: a function of a build, or a floor.
struct Candidate {
    /// The function (the binary's name), or the floor's.
    name: String,
    /// `after`, `before`, or `floor`.
    build: &'static str,
    path: PathBuf,
    /// The template's environment for the function (the floors get `health`'s).
    env: Vec<(String, String)>,
    payload: Value,
}

#[derive(Default)]
struct Samples {
    init: Vec<f64>,
    first: Vec<f64>,
    warm: Vec<f64>,
    rss_kib: Vec<u64>,
    answers: BTreeMap<String, usize>,
}

#[tokio::main]
async fn main() {
    let options = options();
    let Some(stack) = FunctionStack::deploy("bench-cold").await else {
        eprintln!("AWS_ENDPOINT_URL must name the emulator (see the module docs)");
        std::process::exit(2);
    };
    let payloads = seed(&stack).await;

    let mut candidates = Vec::new();
    for (build, dir) in [
        ("after", Some(&options.after)),
        ("before", options.before.as_ref()),
    ] {
        let Some(dir) = dir else { continue };
        for (name, payload) in &payloads {
            if options
                .only
                .as_ref()
                .is_some_and(|only| !only.contains(name))
            {
                continue;
            }
            candidates.push(Candidate {
                name: name.clone(),
                build,
                path: existing(&dir.join(name)),
                env: [stack.environment(name), options.env.clone()].concat(),
                payload: payload.clone(),
            });
        }
    }
    for floor in ["floor_hello", "floor_sdk"] {
        candidates.push(Candidate {
            name: floor.to_owned(),
            build: "floor",
            path: existing(&options.floors.join(floor)),
            env: [stack.environment("health"), options.env.clone()].concat(),
            payload: json!({}),
        });
    }

    eprintln!(
        "{} binaries × {} runs, {} warm invocations each; load average {}",
        candidates.len(),
        options.runs,
        options.warm,
        load_average()
    );
    let started = Instant::now();
    let mut samples: Vec<Samples> = candidates.iter().map(|_| Samples::default()).collect();
    for run in 0..options.runs {
        let offset = run * candidates.len() / options.runs.max(1);
        for i in 0..candidates.len() {
            let index = (i + offset) % candidates.len();
            measure(&candidates[index], options.warm, &mut samples[index]).await;
        }
        eprintln!(
            "run {} of {} done ({:.0} s)",
            run + 1,
            options.runs,
            started.elapsed().as_secs_f64()
        );
    }
    eprintln!("load average at the end {}", load_average());
    report(&candidates, &samples);
}

fn existing(path: &Path) -> PathBuf {
    assert!(
        path.is_file(),
        "{} is missing (build it first, see the module docs)",
        path.display()
    );
    path.to_owned()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

async fn measure(candidate: &Candidate, warm: usize, samples: &mut Samples) {
    let mut function = Bootstrap::start(&candidate.path, &candidate.name, &candidate.env).await;
    let init = function
        .ready(PATIENCE)
        .await
        .unwrap_or_else(|e| panic!("{} ({}): {e}", candidate.name, candidate.build));
    samples.init.push(ms(init));
    for i in 0..=warm {
        let started = Instant::now();
        let outcome = function
            .invoke(&candidate.payload, PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("{} ({}): {e}", candidate.name, candidate.build));
        let elapsed = ms(started.elapsed());
        if i == 0 {
            samples.first.push(elapsed);
        } else {
            samples.warm.push(elapsed);
        }
        *samples.answers.entry(answer(&outcome)).or_default() += 1;
    }
    samples.rss_kib.push(function.peak_rss_kib().unwrap_or(0));
    function.stop().await;
}

/// What an invocation answered, in a word: the HTTP status, a worker's failure count, or
/// the function error.
fn answer(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Error { error_type, .. } => {
            format!("error {}", error_type.as_deref().unwrap_or("?"))
        }
        Outcome::Response(_) => {
            let body = outcome.json();
            if let Some(status) = body["statusCode"].as_u64() {
                status.to_string()
            } else if let Some(failures) = body["batchItemFailures"].as_array() {
                format!("{} failed", failures.len())
            } else if body.get("republished").is_some() {
                "swept".to_owned()
            } else {
                "ok".to_owned()
            }
        }
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = (p / 100.0 * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn median_kib(values: &[u64]) -> f64 {
    percentile(&values.iter().map(|&v| v as f64).collect::<Vec<_>>(), 50.0)
}

fn report(candidates: &[Candidate], samples: &[Samples]) {
    let floor = candidates
        .iter()
        .position(|c| c.name == "floor_sdk")
        .expect("the SDK floor runs");
    let floor_init = percentile(&samples[floor].init, 50.0);
    let floor_rss = median_kib(&samples[floor].rss_kib);
    println!(
        "| function | build | init ms (p50) | init ÷ SDK floor | first invocation ms (p50) | warm p50 ms | warm p99 ms | peak RSS MiB | RSS ÷ SDK floor | answers |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by_key(|&i| {
        let c = &candidates[i];
        (c.build == "floor", c.name.clone(), c.build != "before")
    });
    let mut worst: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
    for i in order {
        let (c, s) = (&candidates[i], &samples[i]);
        let init = percentile(&s.init, 50.0);
        let rss = median_kib(&s.rss_kib);
        let entry = worst.entry(c.build).or_insert((0.0, 0.0));
        entry.0 = entry.0.max(init / floor_init);
        entry.1 = entry.1.max(rss / floor_rss);
        let answers: Vec<String> = s
            .answers
            .iter()
            .map(|(answer, count)| format!("{answer} ×{count}"))
            .collect();
        println!(
            "| {} | {} | {:.1} | {:.2} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2} | {} |",
            c.name,
            c.build,
            init,
            init / floor_init,
            percentile(&s.first, 50.0),
            percentile(&s.warm, 50.0),
            percentile(&s.warm, 99.0),
            rss / 1024.0,
            rss / floor_rss,
            answers.join(", ")
        );
    }
    println!();
    for (build, (init, rss)) in worst {
        println!("{build}: worst init ÷ SDK floor {init:.2}, worst RSS ÷ SDK floor {rss:.2}");
    }
}

// ------------------------------------------------------------------------------ seeding

fn created(reply: Reply) -> Reply {
    assert!((200..300).contains(&reply.status), "{:?}", reply.body);
    reply
}

/// Fills the tables through the handlers (in-process, over the emulator) and returns the
/// event each function is measured with: its `events/` sample with real tokens and ids, a
/// batch of a real message of its queue for a worker (else its sample batch), the schedule
/// for the sweeper and the holds expirer. Most
/// payloads repeat cleanly; those that change state answer their refusal from the second
/// time on (`answers` in the table shows which).
async fn seed(stack: &FunctionStack) -> BTreeMap<String, Value> {
    let app = &stack.app;
    let api = app.api();
    let ctx = &app.ctx;
    let signup = sample("auth-signup");
    let credentials: Value = serde_json::from_str(signup["body"].as_str().unwrap()).unwrap();
    created(api.post("/auth/signup", None, credentials.clone()).await);
    let login = created(api.post("/auth/login", None, credentials.clone()).await);
    // A second session for logout, so that refresh keeps its own.
    let second = created(api.post("/auth/login", None, credentials).await);
    let logout_refresh = second.body["refresh_token"].as_str().unwrap().to_owned();
    let token = login.body["access_token"].as_str().unwrap().to_owned();
    let refresh = login.body["refresh_token"].as_str().unwrap().to_owned();
    // The samples' own slug, email addresses and event stay free, so that their first
    // invocation succeeds; the seeded ones are others.
    let mut event_body: Value =
        serde_json::from_str(sample("events-create")["body"].as_str().unwrap()).unwrap();
    event_body["slug"] = json!("seeded-meetup");
    let event = created(api.post("/events", Some(&token), event_body.clone()).await);
    let event_id = event.body["id"].as_str().unwrap().to_owned();
    event_body["slug"] = json!("to-be-cancelled");
    let doomed = created(api.post("/events", Some(&token), event_body).await);
    let doomed_id = doomed.body["id"].as_str().unwrap().to_owned();
    let mut registration_body: Value =
        serde_json::from_str(sample("registrations-create")["body"].as_str().unwrap()).unwrap();
    registration_body["email"] = json!("seeded@example.org");
    let registration = created(
        api.post(
            &format!("/events/{event_id}/registrations"),
            None,
            registration_body.clone(),
        )
        .await,
    );
    let registration_id = registration.body["id"].as_str().unwrap().to_owned();
    let manage_token = registration.body["manage_token"]
        .as_str()
        .unwrap()
        .to_owned();
    registration_body["email"] = json!("to-cancel@example.org");
    let to_cancel = created(
        api.post(
            &format!("/events/{event_id}/registrations"),
            None,
            registration_body,
        )
        .await,
    );
    let cancel_id = to_cancel.body["id"].as_str().unwrap().to_owned();
    let cancel_token = to_cancel.body["manage_token"].as_str().unwrap().to_owned();
    let admin_user = evreg::runtime::admin::create_admin(
        ctx.users.as_ref(),
        "admin@example.org",
        PASSWORD.to_owned(),
    )
    .await
    .expect("an ADMIN");
    let admin = ctx
        .tokens
        .issue(admin_user.id, Role::Admin, time::OffsetDateTime::now_utc())
        .expect("a token")
        .access_token;
    let staff = created(
        api.post(
            "/users",
            Some(&admin),
            json!({ "email": "seeded-staff@example.org", "password": PASSWORD, "role": "STAFF" }),
        )
        .await,
    );
    let staff_id = staff.body["id"].as_str().unwrap().to_owned();
    let ticket = ctx
        .attendee_keys
        .issue_ticket(event_id.parse().unwrap(), registration_id.parse().unwrap());

    // One real message of each worker's queue as its batch, then every queue drained
    // in-process (the tickets worker's output feeds the email worker's queue).
    let worker_batches = drain_keeping_one_batch_each(stack).await;

    let placeholders = [
        ("REPLACE_WITH_MANAGE_TOKEN", manage_token.as_str()),
        ("REPLACE_WITH_QR_PAYLOAD", ticket.as_str()),
        ("REPLACE_WITH_PASSWORD", PASSWORD),
    ];
    let mut payloads = BTreeMap::new();
    for spec in ROUTES {
        let mut event = sample(spec.binary);
        if spec.binary == "registrations-cancel" {
            event = with_id(
                replaced(&event, &[("REPLACE_WITH_MANAGE_TOKEN", &cancel_token)]),
                &cancel_id,
            );
        }
        let bearer = if spec.binary.starts_with("users-") || spec.binary == "events-cancel" {
            &admin
        } else {
            &token
        };
        event = replaced(&event, &placeholders);
        event = replaced(&event, &[("REPLACE_WITH_ACCESS_TOKEN", bearer)]);
        if event["pathParameters"]["id"].is_string() && spec.binary != "registrations-cancel" {
            let id = if spec.path.starts_with("/registrations") {
                &registration_id
            } else if spec.path.starts_with("/users") {
                &staff_id
            } else if spec.binary == "events-cancel" {
                &doomed_id
            } else {
                &event_id
            };
            event = with_id(event, id);
        }
        if spec.binary == "events-update" {
            event = replaced(&event, &[("rust-meetup", "seeded-meetup")]);
        }
        if spec.binary == "auth-signup" {
            event = replaced(
                &event,
                &[("organizer@example.com", "new-organizer@example.com")],
            );
        }
        if spec.binary == "auth-refresh" {
            event["body"] = json!(json!({ "refresh_token": refresh }).to_string());
        }
        if spec.binary == "auth-logout" {
            event["body"] = json!(json!({ "refresh_token": logout_refresh }).to_string());
        }
        payloads.insert(spec.binary.to_owned(), event);
    }
    for spec in WORKERS {
        // A worker whose queue the seeding fed nothing (the payments worker: no paid event)
        // gets its sample batch.
        let batch = worker_batches.get(spec.binary).cloned().unwrap_or_else(|| {
            sample(&format!(
                "sqs-{}",
                spec.binary.trim_start_matches("worker-")
            ))
        });
        payloads.insert(spec.binary.to_owned(), batch);
    }
    for schedule in ["outbox-sweeper", "holds-expirer"] {
        payloads.insert(schedule.to_owned(), sample(&format!("schedule-{schedule}")));
    }
    payloads
}

async fn drain_keeping_one_batch_each(stack: &FunctionStack) -> BTreeMap<String, Value> {
    let app = &stack.app;
    let sqs = aws_sdk_sqs::Client::new(&app.sdk);
    let mut kept = BTreeMap::new();
    loop {
        let mut round = 0;
        for spec in WORKERS {
            let url = app.queue_of(spec.worker).to_owned();
            let arn = queue_attribute(&sqs, &url, aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                .await
                .unwrap_or_default();
            loop {
                let messages = receive(&sqs, &url).await;
                if messages.is_empty() {
                    break;
                }
                kept.entry(spec.binary.to_owned()).or_insert_with(|| {
                    serde_json::to_value(batch_of(&messages[..1], &arn)).expect("a batch")
                });
                let response = spec
                    .worker
                    .handle(&app.ctx, batch_of(&messages, &arn))
                    .await;
                assert!(response.batch_item_failures.is_empty(), "{}", spec.binary);
                delete(&sqs, &url, &messages).await;
                round += messages.len();
            }
        }
        if round == 0 {
            return kept;
        }
    }
}
