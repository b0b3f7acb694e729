//! Benchmark: registrations/s through the embedded dev server over HTTP.
//!
//! Spawns the RELEASE `evreg-dev` binary (built beforehand, never by this program) on a
//! free 127.0.0.1 port with a fresh data directory, signs up an organizer, creates one
//! event with more seats than the whole run registers, and fires N registrations (each a
//! unique email) at concurrency 1, 8, 32 and 64 through reqwest. After each level it waits
//! until the read model counts every registration and every confirmation mail is in the
//! mailbox, so a level starts with the server's workers idle. Kills the server by its PID.
//!
//! ```sh
//! cargo build --release -p evreg-dev
//! cargo run -p evreg-tests --example bench_dev_server            # N = 2000 per level
//! cargo run -p evreg-tests --example bench_dev_server -- 500     # another N
//! ```
//!
//! `EVREG_DEV_BIN` overrides the binary (default `target/release/evreg-dev`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const LEVELS: [usize; 4] = [1, 8, 32, 64];
const DEFAULT_REQUESTS: usize = 2000;
const WARM_UP: usize = 50;
const SETTLE_TIMEOUT: Duration = Duration::from_secs(300);

/// The dev server process; killed by its PID when dropped, also on a panic.
struct DevServer {
    child: Child,
    url: String,
}

impl DevServer {
    fn start(binary: &Path, data_dir: &Path) -> Self {
        let mut child = Command::new(binary)
            .env("PORT", "0") // the kernel picks a free port; the banner names it
            .env("EVREG_DATA_DIR", data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let mut reader = BufReader::new(child.stdout.take().expect("stdout"));
        let mut banner = String::new();
        reader.read_line(&mut banner).expect("the server's banner");
        // Keep the pipe drained: the server goes on printing.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let url = banner
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {banner:?}"))
            .to_owned();
        Self { child, url }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for DevServer {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL to this child's PID only
        let _ = self.child.wait();
    }
}

/// CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0 // USER_HZ is 100 on Linux
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mail_count(data_dir: &Path) -> usize {
    std::fs::read_dir(data_dir.join("mail")).map_or(0, |entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
            .count()
    })
}

async fn post(client: &reqwest::Client, url: &str, token: Option<&str>, body: Value) -> Value {
    let mut request = client.post(url).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the dev server answers");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "POST {url}: {status} {body}");
    body
}

struct Level {
    concurrency: usize,
    requests: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    errors: usize,
    client_cpu: f64,
    /// While the requests were in flight.
    server_cpu: f64,
    /// From the first request until the workers had caught up.
    server_cpu_settled: f64,
    /// After the last response: until the read model counted all, until all were mailed.
    counted: Duration,
    mailed: Duration,
}

/// `requests` registrations, `concurrency` in flight at a time, emails `<tag>-<i>@…`.
async fn fire(
    client: &reqwest::Client,
    url: &str,
    tag: &str,
    requests: usize,
    concurrency: usize,
) -> (Duration, Vec<Duration>, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, tag, next) = (client.clone(), url.to_owned(), tag.to_owned(), next.clone());
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= requests {
                        return (latencies, errors);
                    }
                    let body = json!({ "email": format!("{tag}-{i}@bench.example"), "full_name": "Bench Attendee" });
                    let sent = Instant::now();
                    let ok = match client.post(&url).json(&body).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let body = response.bytes().await;
                            status == 201 && body.is_ok()
                        }
                        Err(_) => false,
                    };
                    latencies.push(sent.elapsed());
                    errors += usize::from(!ok);
                }
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::with_capacity(requests), 0);
    for worker in workers {
        let (l, e) = worker.await.expect("request task");
        latencies.extend(l);
        errors += e;
    }
    (started.elapsed(), latencies, errors)
}

/// Polls until the read model counts `expected` registrations and the mailbox holds
/// `expected` confirmation mails; returns how long each took after the call.
async fn settle(
    client: &reqwest::Client,
    event_url: &str,
    data_dir: &Path,
    expected: usize,
) -> (Duration, Duration) {
    let started = Instant::now();
    let (mut counted, mut mailed) = (None, None);
    while counted.is_none() || mailed.is_none() {
        assert!(
            started.elapsed() < SETTLE_TIMEOUT,
            "not settled after {SETTLE_TIMEOUT:?}: expected {expected} registered and mailed"
        );
        if counted.is_none() {
            let event: Value = client
                .get(event_url)
                .send()
                .await
                .expect("GET the event")
                .json()
                .await
                .expect("the event as JSON");
            if event["registered"].as_u64() == Some(expected as u64) {
                counted = Some(started.elapsed());
            }
        }
        if mailed.is_none() && mail_count(data_dir) >= expected {
            mailed = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (counted.unwrap_or_default(), mailed.unwrap_or_default())
}

#[tokio::main]
async fn main() {
    let requests: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("N, the registrations per level"))
        .unwrap_or(DEFAULT_REQUESTS);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .expect("the workspace root");
    let binary = std::env::var_os("EVREG_DEV_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/evreg-dev"));
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build --release -p evreg-dev` first",
        binary.display()
    );
    let data_dir =
        std::env::temp_dir().join(format!("evreg-bench-{}", uuid::Uuid::new_v4().simple()));
    let server = DevServer::start(&binary, &data_dir);
    let server_pid = server.pid().to_string();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()
        .expect("an HTTP client");
    let url = &server.url;

    let credentials =
        json!({ "email": "organizer@bench.example", "password": "correct horse battery" });
    post(
        &client,
        &format!("{url}/auth/signup"),
        None,
        credentials.clone(),
    )
    .await;
    let login = post(&client, &format!("{url}/auth/login"), None, credentials).await;
    let token = login["access_token"].as_str().expect("access token");
    let total = WARM_UP + requests * LEVELS.len();
    let event = post(
        &client,
        &format!("{url}/events"),
        Some(token),
        json!({ "name": "Benchmark", "date": "2030-01-01T18:00:00Z", "venue": "Loopback",
                "max_capacity": total + 1000, "status": "PUBLISHED" }),
    )
    .await;
    let event_id = event["id"].as_str().expect("event id");
    let registrations_url = format!("{url}/events/{event_id}/registrations");
    let event_url = format!("{url}/events/{event_id}");

    println!(
        "evreg-dev {} (pid {server_pid}), data in {}; {requests} registrations per level",
        binary.display(),
        data_dir.display()
    );
    let (_, _, warm_errors) = fire(&client, &registrations_url, "warm", WARM_UP, 8).await;
    assert_eq!(warm_errors, 0, "warm-up registrations failed");
    let mut expected = WARM_UP;
    settle(&client, &event_url, &data_dir, expected).await;

    let mut levels = Vec::new();
    for concurrency in LEVELS {
        let (client_before, server_before) = (cpu_seconds("self"), cpu_seconds(&server_pid));
        let tag = format!("c{concurrency}");
        let (wall, mut latencies, errors) =
            fire(&client, &registrations_url, &tag, requests, concurrency).await;
        let (client_cpu, server_cpu) = (
            cpu_seconds("self") - client_before,
            cpu_seconds(&server_pid) - server_before,
        );
        latencies.sort();
        expected += requests - errors;
        let (counted, mailed) = settle(&client, &event_url, &data_dir, expected).await;
        levels.push(Level {
            concurrency,
            requests,
            wall,
            latencies,
            errors,
            client_cpu,
            server_cpu,
            server_cpu_settled: cpu_seconds(&server_pid) - server_before,
            counted,
            mailed,
        });
    }

    let event: Value = client
        .get(&event_url)
        .send()
        .await
        .expect("GET the event")
        .json()
        .await
        .expect("the event as JSON");
    drop(server);
    let _ = std::fs::remove_dir_all(&data_dir);

    println!();
    println!(
        "| concurrency | requests | seconds | registrations/s | p50 ms | p99 ms | errors | client CPU s | server CPU s | counted after | mailed after | server CPU s until settled |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for level in &levels {
        println!(
            "| {} | {} | {:.2} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {:.2} s | {:.2} s | {:.2} |",
            level.concurrency,
            level.requests,
            level.wall.as_secs_f64(),
            level.requests as f64 / level.wall.as_secs_f64(),
            ms(percentile(&level.latencies, 50.0)),
            ms(percentile(&level.latencies, 99.0)),
            level.errors,
            level.client_cpu,
            level.server_cpu,
            level.counted.as_secs_f64(),
            level.mailed.as_secs_f64(),
            level.server_cpu_settled,
        );
    }
    println!();
    println!(
        "GET /events/{event_id}: registered = {} (expected {expected}: {WARM_UP} warm-up + {} levels x {requests})",
        event["registered"],
        LEVELS.len()
    );
    let errors: usize = levels.iter().map(|l| l.errors).sum();
    assert_eq!(errors, 0, "some registrations failed");
    assert_eq!(
        event["registered"].as_u64(),
        Some(total as u64),
        "every registration is counted"
    );
}
