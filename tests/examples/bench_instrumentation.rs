//! Benchmark: what evreg's instrumentation costs a request on the warm path — the request
//! span with its ids and trace context, the metrics of the request and of the registration,
//! the JSON log lines, and the EMF flush a Lambda does after every invocation — measured
//! side by side in one run against the same requests without it.
//!
//! Both arms call the routes exactly as a Lambda does (`Route::instrumented` through
//! `LambdaApi`, from API Gateway v2 events) over the embedded store (SQLite in a scratch
//! directory; the domain events go to a bus that drops them, so no worker competes for the
//! thread). *Off*: no `tracing` subscriber (spans and events are disabled at their call
//! site) and a no-op metrics recorder. *On*: the JSON log subscriber as Lambda runs it
//! (span list, `evreg=debug` so the `served` line is written too), and the EMF collector
//! as the global recorder, flushed after each request — both into writers that count the
//! bytes and drop them.
//! The arms alternate in blocks on one thread, so drift on a shared machine hits both.
//! The one-off costs of a cold start (building the subscriber, installing the collector)
//! are timed once each.
//!
//! ```sh
//! cargo run --release -p evreg-tests --example bench_instrumentation [-- BLOCKS BLOCK_SIZE]
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use evreg::domain::Envelope;
use evreg::ports::{Bus, BusError};
use evreg::AppContext;
use evreg_tests::api::{create_event, new_organizer, Api, LambdaApi};
use serde_json::json;

/// A bus that drops what it is given (the bench measures the route, not the fan-out).
struct Dropping;

#[async_trait]
impl Bus for Dropping {
    async fn publish(&self, _: &[Envelope]) -> Result<(), BusError> {
        Ok(())
    }
}

/// Bytes written by the instrumented arm: log lines and EMF documents (dropped after
/// counting, as `io::sink()` would drop them).
static LOG_BYTES: AtomicUsize = AtomicUsize::new(0);
static EMF_BYTES: AtomicUsize = AtomicUsize::new(0);

struct Counting(&'static AtomicUsize);

impl std::io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// `p50 p90 mean` in µs.
fn summary(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| micros(samples[((samples.len() - 1) as f64 * q).round() as usize]);
    let mean = samples.iter().map(|d| micros(*d)).sum::<f64>() / samples.len() as f64;
    (at(0.5), at(0.9), mean)
}

fn json_subscriber() -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,evreg=debug"))
        .with_current_span(false)
        .with_span_list(true)
        .without_time()
        .with_writer(|| Counting(&LOG_BYTES))
        .finish()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let blocks: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
    let block_size: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);

    // One thread: the thread-default subscriber and recorder reach every poll.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    let started = Instant::now();
    let subscriber = json_subscriber();
    let subscriber_built = started.elapsed();
    let started = Instant::now();
    let collector = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(evreg::telemetry::NAMESPACE)
        .init()
        .expect("the EMF recorder, installed once");
    let collector_installed = started.elapsed();
    let dispatch = tracing::Dispatch::new(subscriber);
    let noop = metrics::NoopRecorder;

    runtime.block_on(async {
        let _setup_logs = tracing::dispatcher::set_default(&dispatch);
        let app = evreg_tests::apps::embedded();
        let ctx = Arc::new(AppContext {
            bus: Arc::new(Dropping),
            ..(*app.ctx).clone()
        });
        let api = LambdaApi { ctx };
        let organizer = new_organizer(&api).await;
        let event = create_event(
            &api,
            &organizer,
            json!({ "max_capacity": 1_000_000, "waitlist_enabled": false }),
        )
        .await;
        let register = format!("/events/{event}/registrations");
        drop(_setup_logs);

        let mut first_flush = None;
        let mut rows = Vec::new();
        for route in ["health", "registrations-create"] {
            let (mut off, mut on) = (Vec::new(), Vec::new());
            let mut n = 0usize;
            for block in 0..blocks * 2 {
                // The instrumented arm first: tracing caches each call site's interest
                // when it is first reached, and reached with no subscriber it stays off.
                let instrumented = block % 2 == 0;
                for _ in 0..block_size {
                    n += 1;
                    let _metrics = (!instrumented).then(|| metrics::set_default_local_recorder(&noop));
                    let _logs = instrumented.then(|| tracing::dispatcher::set_default(&dispatch));
                    let started = Instant::now();
                    let reply = if route == "health" {
                        api.get("/health", None).await
                    } else {
                        let email = format!("bench-{n}-{}@example.org", block);
                        api.post(&register, None, json!({ "email": email, "full_name": "Bench" }))
                            .await
                    };
                    if instrumented {
                        let flush = Instant::now();
                        collector
                            .set_property("requestId", format!("bench-{n}"))
                            .flush(Counting(&EMF_BYTES))
                            .expect("a flush into the counter");
                        first_flush.get_or_insert(flush.elapsed());
                    }
                    let elapsed = started.elapsed();
                    assert!(reply.status < 300, "{route}: {} {:?}", reply.status, reply.body);
                    if instrumented { on.push(elapsed) } else { off.push(elapsed) }
                }
            }
            let bytes = (
                LOG_BYTES.swap(0, Ordering::Relaxed) / on.len(),
                EMF_BYTES.swap(0, Ordering::Relaxed) / on.len(),
            );
            rows.push((route, summary(&mut off), summary(&mut on), off.len(), bytes));
        }

        println!(
            "evreg instrumentation cost per request, warm; {blocks} blocks of {block_size} per arm, alternating; profile: {}",
            if cfg!(debug_assertions) { "debug" } else { "release" }
        );
        println!();
        println!("| route | requests per arm | off p50 µs | on p50 µs | Δ p50 µs | off p90 µs | on p90 µs | off mean µs | on mean µs | Δ mean µs | log bytes per request | EMF bytes per request |");
        println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (route, off, on, count, (log, emf)) in rows {
            println!(
                "| {route} | {count} | {:.1} | {:.1} | {:+.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:+.1} | {log} | {emf} |",
                off.0, on.0, on.0 - off.0, off.1, on.1, off.2, on.2, on.2 - off.2
            );
        }
        println!();
        println!("cold start, once per process:");
        println!("| step | µs |");
        println!("|---|---:|");
        println!("| build the JSON log subscriber | {:.1} |", micros(subscriber_built));
        println!("| install the EMF collector as the global recorder | {:.1} |", micros(collector_installed));
        println!(
            "| first EMF flush (first request's metrics) | {:.1} |",
            first_flush.map(micros).unwrap_or_default()
        );
    });
}
