//! `Idempotency-Key` for POST routes: the first request with a key runs and its response
//! is stored; a retry with the same key and body gets that response again without a
//! second write; the same key with another body is a 422; a retry while the first still
//! runs is a 409 with `Retry-After`. The claim is a conditional put in the store, so two
//! concurrent requests with one key run the operation once.

use std::future::Future;

use http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::Duration;

use crate::app::AppContext;
use crate::http::{header, into_response, ApiError, ApiResult};
use crate::services::once::{once, Once, OnceKey};

/// The request header carrying the client's key (IETF draft `Idempotency-Key`, as Stripe).
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
/// Set on a response replayed from the store.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";
/// How long a key answers retries.
pub const KEY_TTL: Duration = Duration::hours(24);
const MAX_KEY_CHARS: usize = 255;

/// A response as stored for replay.
#[derive(Serialize, Deserialize)]
struct Stored {
    status: u16,
    content_type: Option<String>,
    /// Where a redirect (a form post's 303) sent the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location: Option<String>,
    body: String,
}

/// The key in an `Idempotency-Key` header value: trimmed, 1 to 255 bytes, else 400
/// `invalid_header`.
pub fn idempotency_key(raw: &str) -> Result<&str, ApiError> {
    let key = raw.trim();
    if key.is_empty() || key.len() > MAX_KEY_CHARS {
        return Err(ApiError::BadHeader(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_CHARS} characters"
        )));
    }
    Ok(key)
}

/// Runs `operation` at most once per `Idempotency-Key` (none given: just runs it).
pub async fn idempotent<F, Fut>(ctx: &AppContext, req: &Request, operation: F) -> ApiResult
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult>,
{
    idempotent_with_key(ctx, req, header(req, IDEMPOTENCY_KEY_HEADER), operation).await
}

/// Runs `operation` at most once per `raw_key` (one the client sent elsewhere than in the
/// header: a form's hidden field), as [`idempotent`] does; `None`: just runs it.
pub async fn idempotent_with_key<F, Fut>(
    ctx: &AppContext,
    req: &Request,
    raw_key: Option<&str>,
    operation: F,
) -> ApiResult
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult>,
{
    let Some(raw_key) = raw_key else {
        return operation().await;
    };
    let key = idempotency_key(raw_key)?;
    // Keys are the client's: scoped to the route and path, so one key cannot replay
    // another endpoint's answer.
    let record = format!("http:{} {}:{key}", req.method(), req.uri().path());
    let fingerprint = fingerprint(req);
    let key = OnceKey {
        key: &record,
        fingerprint: &fingerprint,
        memory: KEY_TTL,
    };
    let ran = once(ctx, key, || async {
        let response = into_response(operation().await);
        // A 5xx decided nothing: a retry runs again rather than replay the failure.
        let remember = if response.status().is_server_error() {
            None
        } else {
            stored(&response)
        };
        (response, remember)
    })
    .await?;
    match ran {
        Once::Ran(response) => Ok(response),
        Once::Done(outcome) => replay(&outcome),
        Once::InFlight => Err(ApiError::RequestInProgress),
        Once::Mismatch => Err(ApiError::IdempotencyKeyReused),
    }
}

/// The response as stored for replay; `None` (nothing remembered: a retry runs again) if
/// it cannot be serialized.
fn stored(response: &Response<Body>) -> Option<String> {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let stored = Stored {
        status: response.status().as_u16(),
        content_type: header(http::header::CONTENT_TYPE),
        location: header(http::header::LOCATION),
        body: match response.body() {
            Body::Text(text) => text.clone(),
            _ => String::new(),
        },
    };
    serde_json::to_string(&stored).ok()
}

/// What makes two requests "the same": method, path and body bytes.
fn fingerprint(req: &Request) -> String {
    let body: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    let digest = Sha256::new()
        .chain_update(req.method().as_str())
        .chain_update(b" ")
        .chain_update(req.uri().path())
        .chain_update(b"\n")
        .chain_update(body)
        .finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn replay(outcome: &str) -> ApiResult {
    let stored: Stored = serde_json::from_str(outcome).map_err(ApiError::internal)?;
    let mut response = Response::builder()
        .status(StatusCode::from_u16(stored.status).map_err(ApiError::internal)?)
        .header(REPLAYED_HEADER, "true");
    if let Some(content_type) = stored.content_type {
        response = response.header(http::header::CONTENT_TYPE, content_type);
    }
    if let Some(location) = stored.location {
        response = response.header(http::header::LOCATION, location);
    }
    response
        .body(Body::Text(stored.body))
        .map_err(ApiError::internal)
}
