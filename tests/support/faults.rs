//! A fault-injecting HTTP client for the AWS SDK: wraps the SDK's default client and, for
//! the calls it picks, answers as a failing AWS would — DynamoDB `ThrottlingException`,
//! `ProvisionedThroughputExceededException`, `TransactionCanceledException` with
//! `ThrottlingError` or `TransactionConflict` reasons, `TransactionConflictException` on
//! single-item writes,
//! `InternalServerError` (500); SNS `PublishBatch`, S3 `PutObject` and SES `SendRawEmail`
//! throttled or failing with their own protocols' error bodies — or drops the connection
//! (a connector I/O error). The SDK then deserializes, classifies and retries exactly as
//! it would against AWS, so the tests see the product's real retry configuration at work.
//!
//! Faults are answered *instead of* forwarding: the emulator never sees a failed call.
//! (A response lost after DynamoDB committed is covered by the `ClientRequestToken` the
//! SDK sends with every transaction and keeps across its retries; moto ignores the token,
//! so that fault is not injected.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The calls faults are injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Call {
    /// A DynamoDB operation, by its `X-Amz-Target` name (`TransactWriteItems`, …).
    Dynamo(&'static str),
    /// SNS `PublishBatch`.
    SnsPublish,
    /// S3 `PutObject`.
    S3Put,
    /// SES `SendRawEmail`.
    SesSend,
}

/// One injected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// DynamoDB 400 `ThrottlingException`.
    Throttling,
    /// DynamoDB 400 `ProvisionedThroughputExceededException`.
    ThroughputExceeded,
    /// DynamoDB 400 `TransactionCanceledException`, the first item `ThrottlingError`.
    CancelledThrottled,
    /// DynamoDB 400 `TransactionCanceledException`, the first item `TransactionConflict`
    /// (a concurrent transaction on the item, which neither emulator ever reports).
    CancelledConflict,
    /// DynamoDB 400 `TransactionConflictException` (single-item writes).
    Conflict,
    /// A 500 in the service's protocol.
    ServerError,
    /// The service's throttling error (SNS and SES `Throttling`, S3 `SlowDown`).
    ServiceThrottled,
    /// The connection dropped before an answer.
    Dropped,
}

/// Which calls fail.
enum Plan {
    /// Each eligible call fails with probability `rate`, with a fault drawn from the
    /// call's kinds; the generator is seeded so a run's choices can be replayed.
    Random { rate: f64, rng: Box<StdRng> },
    /// The next `count` calls of `call` fail with `fault`; nothing else fails.
    Next {
        call: Call,
        fault: Fault,
        count: usize,
    },
}

struct State {
    plan: Plan,
    /// (call, fault) → how many were injected.
    injected: BTreeMap<(Call, Fault), usize>,
    /// call → how many reached the injector (attempts, retries included).
    attempts: BTreeMap<Call, usize>,
}

/// The wrapping client; clone it into an `SdkConfig` with `http_client`.
#[derive(Clone)]
pub struct Faults {
    inner: SharedHttpClient,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faults")
    }
}

impl Faults {
    /// Every eligible call fails with probability `rate`, choices from `seed`.
    pub fn random(seed: u64, rate: f64) -> Self {
        Self::with(Plan::Random {
            rate,
            rng: Box::new(StdRng::seed_from_u64(seed)),
        })
    }

    /// Nothing fails until [`Faults::arm`] says what.
    pub fn none() -> Self {
        Self::with(Plan::Next {
            call: Call::S3Put,
            fault: Fault::Dropped,
            count: 0,
        })
    }

    /// From now on the next `count` calls of `call` fail with `fault`, and nothing else;
    /// the counts start again from zero.
    pub fn arm(&self, call: Call, fault: Fault, count: usize) {
        let mut state = self.state.lock().expect("fault state");
        state.plan = Plan::Next { call, fault, count };
        state.injected.clear();
        state.attempts.clear();
    }

    fn with(plan: Plan) -> Self {
        // The SDK's own default client (hyper 1, rustls with aws-lc), which it builds
        // privately when none is configured.
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .build_https();
        Self {
            inner,
            state: Arc::new(Mutex::new(State {
                plan,
                injected: BTreeMap::new(),
                attempts: BTreeMap::new(),
            })),
        }
    }

    /// How many faults were injected, by call and kind.
    pub fn injected(&self) -> BTreeMap<(Call, Fault), usize> {
        self.state.lock().expect("fault state").injected.clone()
    }

    /// How many attempts of `call` the SDK made (failed ones included).
    pub fn attempts(&self, call: Call) -> usize {
        let state = self.state.lock().expect("fault state");
        state.attempts.get(&call).copied().unwrap_or_default()
    }

    /// The fault, if any, for this attempt of `call`.
    fn decide(&self, call: Call) -> Option<Fault> {
        let mut state = self.state.lock().expect("fault state");
        *state.attempts.entry(call).or_default() += 1;
        let fault = match &mut state.plan {
            Plan::Random { rate, rng } => {
                if !rng.random_bool(*rate) {
                    return None;
                }
                let kinds = kinds(call);
                kinds[rng.random_range(0..kinds.len())]
            }
            Plan::Next {
                call: wanted,
                fault,
                count,
            } => {
                if *wanted != call || *count == 0 {
                    return None;
                }
                *count -= 1;
                *fault
            }
        };
        *state.injected.entry((call, fault)).or_default() += 1;
        Some(fault)
    }
}

/// The faults a call can meet.
fn kinds(call: Call) -> &'static [Fault] {
    use Fault::*;
    match call {
        Call::Dynamo("TransactWriteItems") => &[
            Throttling,
            ThroughputExceeded,
            CancelledThrottled,
            CancelledConflict,
            ServerError,
            Dropped,
        ],
        Call::Dynamo("PutItem" | "UpdateItem" | "DeleteItem") => &[
            Throttling,
            ThroughputExceeded,
            Conflict,
            ServerError,
            Dropped,
        ],
        Call::Dynamo(_) => &[Throttling, ThroughputExceeded, ServerError, Dropped],
        Call::SnsPublish | Call::S3Put | Call::SesSend => &[ServiceThrottled, ServerError, Dropped],
    }
}

const DYNAMO_TARGET: &str = "DynamoDB_20120810.";

/// Which injectable call `request` is, if any.
fn call_of(request: &HttpRequest) -> Option<Call> {
    if let Some(target) = request.headers().get("x-amz-target") {
        let operation = target.strip_prefix(DYNAMO_TARGET)?;
        // Interned: the operation names the SDK sends are few and fixed.
        return DYNAMO_OPERATIONS
            .iter()
            .find(|name| **name == operation)
            .map(|name| Call::Dynamo(name));
    }
    let uri = request.uri();
    let body = request.body().bytes().unwrap_or_default();
    if request.method() == "POST" && body.starts_with(b"Action=PublishBatch") {
        Some(Call::SnsPublish)
    } else if request.method() == "PUT" && uri.contains("x-id=PutObject") {
        Some(Call::S3Put)
    } else if request.method() == "POST" && body.starts_with(b"Action=SendRawEmail") {
        Some(Call::SesSend)
    } else {
        None
    }
}

const DYNAMO_OPERATIONS: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
];

fn response(status: u16, headers: &[(&str, &str)], body: String) -> HttpResponse {
    let mut response = HttpResponse::new(
        StatusCode::try_from(status).expect("a valid status"),
        SdkBody::from(body),
    );
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name.to_string(), value.to_string());
    }
    response
}

/// DynamoDB's JSON error (awsJson1.0), as it sends them.
fn dynamo_error(status: u16, kind: &str, extra: &str) -> HttpResponse {
    let body = format!(
        r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected {kind}"{extra}}}"#
    );
    response(
        status,
        &[("content-type", "application/x-amz-json-1.0")],
        body,
    )
}

/// The `TransactionCanceledException` for `request`'s items: the first cancelled for
/// `code` (`ThrottlingError`, `TransactionConflict`), the others `None`, index-aligned as
/// DynamoDB answers.
fn cancelled(request: &HttpRequest, code: &str, message: &str) -> HttpResponse {
    let items = request
        .body()
        .bytes()
        .and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok())
        .and_then(|json| json["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1);
    let reasons: Vec<serde_json::Value> = (0..items)
        .map(|i| {
            if i == 0 {
                serde_json::json!({ "Code": code, "Message": message })
            } else {
                serde_json::json!({ "Code": "None" })
            }
        })
        .collect();
    let extra = format!(
        r#","CancellationReasons":{}"#,
        serde_json::Value::Array(reasons)
    );
    dynamo_error(400, "TransactionCanceledException", &extra)
}

/// The answer `fault` gives `call`, or the dropped connection.
fn answer(call: Call, fault: Fault, request: &HttpRequest) -> Result<HttpResponse, ConnectorError> {
    use Fault::*;
    Ok(match (call, fault) {
        (_, Dropped) => {
            return Err(ConnectorError::io(
                std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "connection reset (injected)",
                )
                .into(),
            ))
        }
        (Call::Dynamo(_), Throttling) => dynamo_error(400, "ThrottlingException", ""),
        (Call::Dynamo(_), ThroughputExceeded) => {
            dynamo_error(400, "ProvisionedThroughputExceededException", "")
        }
        (Call::Dynamo(_), CancelledThrottled) => cancelled(
            request,
            "ThrottlingError",
            "Throughput exceeds the current capacity of your table or index.",
        ),
        (Call::Dynamo(_), CancelledConflict) => cancelled(
            request,
            "TransactionConflict",
            "Transaction is ongoing for the item",
        ),
        (Call::Dynamo(_), Conflict) => dynamo_error(400, "TransactionConflictException", ""),
        (Call::Dynamo(_), _) => dynamo_error(500, "InternalServerError", ""),
        (Call::SnsPublish, ServiceThrottled) => query_error(SNS_XMLNS, 400, "Sender", "Throttling"),
        (Call::SnsPublish, _) => query_error(SNS_XMLNS, 500, "Receiver", "InternalError"),
        (Call::SesSend, ServiceThrottled) => query_error(SES_XMLNS, 400, "Sender", "Throttling"),
        (Call::SesSend, _) => query_error(SES_XMLNS, 500, "Receiver", "InternalFailure"),
        (Call::S3Put, ServiceThrottled) => s3_error(503, "SlowDown"),
        (Call::S3Put, _) => s3_error(500, "InternalError"),
    })
}

const SNS_XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";
const SES_XMLNS: &str = "http://ses.amazonaws.com/doc/2010-12-01/";

/// The query protocol's XML error (SNS, SES).
fn query_error(xmlns: &str, status: u16, kind: &str, code: &str) -> HttpResponse {
    response(
        status,
        &[("content-type", "text/xml")],
        format!(
            r#"<ErrorResponse xmlns="{xmlns}"><Error><Type>{kind}</Type><Code>{code}</Code><Message>injected</Message></Error><RequestId>injected</RequestId></ErrorResponse>"#
        ),
    )
}

/// S3's XML error.
fn s3_error(status: u16, code: &str) -> HttpResponse {
    response(
        status,
        &[("content-type", "application/xml")],
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected</Message><RequestId>injected</RequestId></Error>"#
        ),
    )
}

impl HttpClient for Faults {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultyConnector {
            inner: self.inner.http_connector(settings, components),
            faults: self.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultyConnector {
    inner: SharedHttpConnector,
    faults: Faults,
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let Some(call) = call_of(&request) else {
            return self.inner.call(request);
        };
        match self.faults.decide(call) {
            None => self.inner.call(request),
            Some(fault) => {
                let answer = answer(call, fault, &request);
                HttpConnectorFuture::ready(answer)
            }
        }
    }
}
