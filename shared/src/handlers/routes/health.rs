//! GET /health — liveness for anyone: `200 {"status": "ok", "version"}` without touching a
//! dependency (load balancers and uptime checks call it often).
//!
//! GET /health?deep=1 — readiness, for an ADMIN (401 without a token, 403 for another role:
//! it touches every dependency, so it is no public amplifier): each dependency is read
//! once, each within [`CHECK_TIMEOUT`], side by side —
//! - `store`: an event by an id no event has (the write table);
//! - `read_model`: that event's statistics (the read table);
//! - `blobs`: a ticket key no ticket has (the tickets bucket);
//! - `outbox`: the oldest unpublished domain event; older than [`OUTBOX_LAG`] means
//!   publishing fails or lags (the bus) and the check is `degraded`.
//!
//! Answers `{"status", "version", "checks": {name: {"status", "latency_ms", "error"?,
//! "oldest_age_seconds"?}}}`: status `ok`, `degraded` (200 both), or `unavailable` (503,
//! `Retry-After`) when a check failed or timed out.

use std::future::Future;
use std::time::{Duration, Instant};

use http::StatusCode;
use lambda_http::Request;
use serde_json::{json, Map, Value};

use crate::app::AppContext;
use crate::domain::{EventId, Role};
use crate::handlers::routes::Caller;
use crate::http::{error_chain, json, query_param, ApiResult};

/// How long one dependency may take to answer before it counts as failing.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
/// How old the oldest unpublished domain event may be before the outbox is `degraded`
/// (the template's OutboxAgeAlarm fires at the same age).
pub const OUTBOX_LAG: Duration = Duration::from_secs(120);

/// Serves `GET /health` (answers: the module docs).
pub async fn handle(ctx: &AppContext, req: Request, caller: Caller) -> ApiResult {
    let deep = query_param::<Flag>(&req, "deep")?.is_some_and(|Flag(on)| on);
    if !deep {
        return json(
            StatusCode::OK,
            &json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }),
        );
    }
    caller.user()?.require_role(&[Role::Admin])?;

    let probe = EventId::now_v7();
    let (store, read_model, blobs, outbox) = tokio::join!(
        check(async { ctx.events.event(probe).await.map(|_| None) }),
        check(async { ctx.read_model.stats(probe).await.map(|_| None) }),
        check(async {
            ctx.blobs
                .get(&format!("health/{probe}"))
                .await
                .map(|_| None)
        }),
        check(async {
            let oldest = ctx.outbox.unpublished(1).await?;
            Ok::<_, crate::ports::StoreError>(oldest.first().map(|envelope| {
                (ctx.clock.now() - envelope.occurred_at)
                    .whole_seconds()
                    .max(0)
            }))
        }),
    );
    let mut checks = Map::new();
    let mut status = "ok";
    for (name, (result, latency)) in [
        ("store", store),
        ("read_model", read_model),
        ("blobs", blobs),
        ("outbox", outbox),
    ] {
        let mut check = json!({ "latency_ms": latency.as_millis() as u64 });
        match result {
            Ok(age) => {
                let lagging = age.is_some_and(|age| age > OUTBOX_LAG.as_secs() as i64);
                check["status"] = json!(if lagging { "degraded" } else { "ok" });
                if let Some(age) = age {
                    check["oldest_age_seconds"] = json!(age);
                }
                if lagging && status == "ok" {
                    status = "degraded";
                }
            }
            Err(error) => {
                tracing::error!(check = name, %error, "health check failed");
                check["status"] = json!("failing");
                check["error"] = json!(error);
                status = "unavailable";
            }
        }
        checks.insert(name.to_owned(), check);
    }
    let body = json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "checks": Value::Object(checks),
    });
    if status == "unavailable" {
        let mut response = json(StatusCode::SERVICE_UNAVAILABLE, &body)?;
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            http::HeaderValue::from_static("5"),
        );
        return Ok(response);
    }
    json(StatusCode::OK, &body)
}

/// The `deep` parameter: `1`/`true` or `0`/`false`; anything else is a 400 (as the OpenAPI
/// document's enum says), not silently "no".
struct Flag(bool);

impl std::str::FromStr for Flag {
    type Err = ();

    fn from_str(value: &str) -> Result<Self, ()> {
        match value {
            "1" | "true" => Ok(Self(true)),
            "0" | "false" => Ok(Self(false)),
            _ => Err(()),
        }
    }
}

/// Runs one check within [`CHECK_TIMEOUT`]: its value (an age in seconds, for the outbox)
/// or why it failed (the whole error chain: the caller is an ADMIN), and how long it took.
async fn check<T, E: std::error::Error>(
    probe: impl Future<Output = Result<Option<T>, E>>,
) -> (Result<Option<T>, String>, Duration) {
    let started = Instant::now();
    let result = match tokio::time::timeout(CHECK_TIMEOUT, probe).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error_chain(&error)),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    };
    (result, started.elapsed())
}
