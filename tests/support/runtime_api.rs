//! The Lambda Runtime API, served by the tests on 127.0.0.1, and a bootstrap run against it
//! as Lambda runs a `provided.al2023` function: one process, its own Runtime API server, the
//! environment Lambda and the template set, invocations handed out on
//! `GET /2018-06-01/runtime/invocation/next` and answered on `…/{id}/response` or
//! `…/{id}/error`; a failed start reported on `/runtime/init/error` (or by the process
//! exiting). Nothing here sleeps: readiness is the first `/next`, an answer is the function's
//! POST, and a process that dies is noticed by waiting on it.
//!
//! Only what the `lambda_runtime` crate calls is served (no extensions, telemetry or
//! response streaming). Used by `integration/runtime.rs` and the `bench_cold_start` example.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::AsyncReadExt;
use tokio::sync::{mpsc, oneshot, watch};

use crate::api::{reply_of, Reply};

const RUNTIME: &str = "/2018-06-01/runtime";

/// The account and region the function ARNs name (the emulator's defaults).
pub const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

/// How the function answered one invocation.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// `POST …/{id}/response`: the body.
    Response(Vec<u8>),
    /// `POST …/{id}/error`: `Lambda-Runtime-Function-Error-Type` and the body.
    Error {
        error_type: Option<String>,
        body: String,
    },
}

impl Outcome {
    /// The response body as JSON; panics with the error on an error outcome.
    pub fn json(&self) -> Value {
        match self {
            Self::Response(bytes) => serde_json::from_slice(bytes)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes))),
            Self::Error { error_type, body } => {
                panic!("the function answered an error ({error_type:?}): {body}")
            }
        }
    }

    /// An API Gateway HTTP API (payload 2.0) response, as the client sees it: status,
    /// headers (with `set-cookie` from `cookies`), and the body decoded when
    /// `isBase64Encoded`.
    pub fn http(&self) -> Reply {
        let response = self.json();
        let status = response["statusCode"].as_u64().expect("statusCode") as u16;
        let mut builder = http::Response::builder().status(status);
        if let Some(headers) = response["headers"].as_object() {
            for (name, value) in headers {
                builder = builder.header(name, value.as_str().expect("header value"));
            }
        }
        for cookie in response["cookies"].as_array().into_iter().flatten() {
            builder = builder.header("set-cookie", cookie.as_str().expect("cookie"));
        }
        let body = match response["body"].as_str() {
            None => lambda_http::Body::Empty,
            Some(text) if response["isBase64Encoded"] == true => lambda_http::Body::Binary(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .expect("base64 body"),
            ),
            Some(text) => lambda_http::Body::Text(text.to_owned()),
        };
        reply_of(builder.body(body).expect("a response"))
    }
}

#[derive(Debug, Clone)]
enum Phase {
    Starting,
    Ready(Instant),
    InitFailed(String),
}

struct Invocation {
    payload: Vec<u8>,
    deadline: SystemTime,
    reply: oneshot::Sender<Outcome>,
}

struct Shared {
    function_arn: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    phase: watch::Sender<Phase>,
}

/// One Runtime API server for one function process, on a free 127.0.0.1 port; it stops
/// when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    invocations: mpsc::UnboundedSender<Invocation>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Serves the Runtime API for the function `name`.
    pub async fn start(name: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (invocations, queue) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"),
            queue: tokio::sync::Mutex::new(queue),
            in_flight: Mutex::new(HashMap::new()),
            phase: watch::channel(Phase::Starting).0,
        });
        let state = shared.clone();
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(serve(&state, req).await) }
                    });
                    // The function's connection closes when it exits; nothing to report.
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            addr,
            shared,
            invocations,
            server,
        })
    }

    /// `AWS_LAMBDA_RUNTIME_API` for the process: `host:port`, as Lambda sets it.
    pub fn endpoint(&self) -> String {
        self.addr.to_string()
    }

    /// Queues `payload`; the answer arrives on the receiver once the function posts it.
    fn enqueue(&self, payload: Vec<u8>, timeout: Duration) -> oneshot::Receiver<Outcome> {
        let (reply, answer) = oneshot::channel();
        let invocation = Invocation {
            payload,
            deadline: SystemTime::now() + timeout,
            reply,
        };
        // The receiver lives as long as `shared`, which `self` holds.
        let _ = self.invocations.send(invocation);
        answer
    }
}

async fn serve(state: &Shared, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let Some(route) = path.strip_prefix(RUNTIME) else {
        return status(StatusCode::NOT_FOUND, "not a Runtime API path");
    };
    let route = route.to_owned();
    match (req.method().clone(), route.as_str()) {
        (Method::GET, "/invocation/next") => next(state).await,
        (Method::POST, "/init/error") => {
            let error_type = header(&req, "lambda-runtime-function-error-type");
            let body = body_text(req).await;
            state
                .phase
                .send_replace(Phase::InitFailed(format!("{error_type:?}: {body}")));
            status(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
        }
        (Method::POST, route) if route.starts_with("/invocation/") => {
            let rest = &route["/invocation/".len()..];
            let (id, kind) = rest.rsplit_once('/').unwrap_or((rest, ""));
            let id = id.to_owned();
            let outcome = match kind {
                "response" => Outcome::Response(body_bytes(req).await),
                "error" => Outcome::Error {
                    error_type: header(&req, "lambda-runtime-function-error-type"),
                    body: body_text(req).await,
                },
                _ => return status(StatusCode::NOT_FOUND, "unknown invocation path"),
            };
            let waiting = state.in_flight.lock().expect("lock").remove(&id);
            match waiting {
                Some(reply) => {
                    let _ = reply.send(outcome);
                    status(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
                }
                None => status(StatusCode::BAD_REQUEST, "InvalidRequestID"),
            }
        }
        _ => status(StatusCode::NOT_FOUND, "not served here"),
    }
}

/// `GET …/invocation/next`: the first call marks the end of init; the answer waits for
/// the next queued invocation.
async fn next(state: &Shared) -> Response<Full<Bytes>> {
    state.phase.send_if_modified(|phase| match phase {
        Phase::Starting => {
            *phase = Phase::Ready(Instant::now());
            true
        }
        _ => false,
    });
    let invocation = {
        let mut queue = state.queue.lock().await;
        match queue.recv().await {
            Some(invocation) => invocation,
            None => return status(StatusCode::GONE, "the Runtime API is shutting down"),
        }
    };
    let id = uuid::Uuid::new_v4().to_string();
    state
        .in_flight
        .lock()
        .expect("lock")
        .insert(id.clone(), invocation.reply);
    let deadline_ms = invocation
        .deadline
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let trace = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        deadline_ms / 1000,
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", id)
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header("lambda-runtime-invoked-function-arn", &state.function_arn)
        .header("lambda-runtime-trace-id", trace)
        .body(Full::new(Bytes::from(invocation.payload)))
        .expect("a response")
}

fn status(code: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .expect("a response")
}

fn header(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn body_bytes(req: Request<Incoming>) -> Vec<u8> {
    req.into_body()
        .collect()
        .await
        .map(|body| body.to_bytes().to_vec())
        .unwrap_or_default()
}

async fn body_text(req: Request<Incoming>) -> String {
    String::from_utf8_lossy(&body_bytes(req).await).into_owned()
}

/// The environment Lambda gives every `provided.al2023` function process (the credentials
/// and region are the emulator's), before the function's own variables.
fn lambda_environment(name: &str, runtime_api: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", name),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
        ("_HANDLER", "bootstrap"),
        ("TZ", ":UTC"),
        ("LANG", "en_US.UTF-8"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("AWS_REGION", REGION),
        ("AWS_DEFAULT_REGION", REGION),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    env.push((
        "AWS_LAMBDA_LOG_GROUP_NAME".into(),
        format!("/aws/lambda/{name}"),
    ));
    env.push(("AWS_LAMBDA_LOG_STREAM_NAME".into(), "local".into()));
    // The emulator's credentials and endpoints, from the test process.
    for key in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
    ] {
        if let Ok(value) = std::env::var(key) {
            env.push((key.to_owned(), value));
        }
    }
    env
}

/// A bootstrap process with its own Runtime API. Killed (by its PID, through its handle)
/// when dropped.
pub struct Bootstrap {
    /// The function's name (its binary's).
    pub name: String,
    api: RuntimeApi,
    child: tokio::process::Child,
    pid: u32,
    spawned_at: Instant,
    output: Arc<Mutex<Vec<u8>>>,
    exited: Option<ExitStatus>,
}

impl Bootstrap {
    /// Starts `binary` as the function `name` with Lambda's environment plus `env` (the
    /// template's variables), the rest of the test process's environment cleared.
    pub async fn start(binary: &Path, name: &str, env: &[(String, String)]) -> Self {
        let api = RuntimeApi::start(name).await.expect("a Runtime API port");
        let mut command = tokio::process::Command::new(binary);
        command
            .env_clear()
            .envs(lambda_environment(name, &api.endpoint()))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display()));
        let pid = child.id().expect("a running child has a pid");
        let output = Arc::new(Mutex::new(Vec::new()));
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(drain(stdout, output.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(drain(stderr, output.clone()));
        }
        Self {
            name: name.to_owned(),
            api,
            child,
            pid,
            spawned_at,
            output,
            exited: None,
        }
    }

    /// Waits until the function asks for its first invocation: the time from exec to that
    /// first `/next` (Lambda's init phase). An init error or the process exiting first is
    /// the error, with what the process printed.
    pub async fn ready(&mut self, timeout: Duration) -> Result<Duration, String> {
        let mut phase = self.api.shared.phase.subscribe();
        let waited = tokio::time::timeout(timeout, async {
            tokio::select! {
                // The phase first: a failed start posts its error (which sets the phase
                // before it is answered) and then exits, so when this task wakes late both
                // are ready, and the exit must not hide the report.
                biased;
                changed = phase.wait_for(|p| !matches!(p, Phase::Starting)) => {
                    changed.map(|p| p.clone()).map_err(|e| e.to_string())
                }
                status = self.child.wait() => Err(format!("exited during init: {status:?}")),
            }
        })
        .await;
        match waited {
            Ok(Ok(Phase::Ready(at))) => Ok(at - self.spawned_at),
            Ok(Ok(Phase::InitFailed(error))) => Err(format!(
                "{}: /runtime/init/error {error}\n{}",
                self.name,
                self.output()
            )),
            Ok(Ok(Phase::Starting)) => unreachable!("waited for another phase"),
            Ok(Err(error)) => Err(format!("{}: {error}\n{}", self.name, self.output())),
            Err(_) => Err(format!(
                "{}: no /next within {timeout:?}\n{}",
                self.name,
                self.output()
            )),
        }
    }

    /// Invokes the function with `payload` (its deadline `timeout` away) and waits for its
    /// answer; the process exiting or the deadline passing first is the error.
    pub async fn invoke(&mut self, payload: &Value, timeout: Duration) -> Result<Outcome, String> {
        if let Some(status) = self.exited {
            return Err(format!("{}: exited earlier ({status})", self.name));
        }
        let answer = self.api.enqueue(payload.to_string().into_bytes(), timeout);
        let child = &mut self.child;
        let outcome = tokio::time::timeout(timeout, async {
            tokio::select! {
                answer = answer => Ok(answer.map_err(|_| "the Runtime API stopped".to_owned())),
                status = child.wait() => Err(status),
            }
        })
        .await;
        let outcome = match outcome {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(status)) => match status {
                Ok(status) => {
                    self.exited = Some(status);
                    Ok(Err(format!("exited during the invocation: {status}")))
                }
                Err(e) => Ok(Err(e.to_string())),
            },
            Err(elapsed) => Err(elapsed),
        };
        match outcome {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(format!("{}: {error}\n{}", self.name, self.output())),
            Err(_) => Err(format!(
                "{}: no answer within {timeout:?}\n{}",
                self.name,
                self.output()
            )),
        }
    }

    /// Invokes and panics on anything but a response.
    pub async fn call(&mut self, payload: &Value) -> Outcome {
        self.invoke(payload, Duration::from_secs(60))
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// The process's peak resident set (`VmHWM` in `/proc/<pid>/status`), in KiB.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// Everything the process wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().expect("lock")).into_owned()
    }

    /// Stops the process (SIGKILL to its PID) and waits for it.
    pub async fn stop(mut self) {
        if self.exited.is_none() {
            let _ = self.child.kill().await;
        }
    }
}

async fn drain(mut stream: impl tokio::io::AsyncRead + Unpin, output: Arc<Mutex<Vec<u8>>>) {
    let mut buffer = [0u8; 8192];
    while let Ok(read) = stream.read(&mut buffer).await {
        if read == 0 {
            break;
        }
        output
            .lock()
            .expect("lock")
            .extend_from_slice(&buffer[..read]);
    }
}

/// The template's stack in the emulator, ready for its functions to run against: the
/// resources (`AwsApp`, whose test-side context holds the same secrets and whose Stripe
/// stand-in the functions pay through), the secrets in SSM as `/evreg/<stage>/…` and
/// `/evreg-payments/<stage>/…` with the resource prefix as the stage, and a verified sender.
pub struct FunctionStack {
    /// The resources and a test-side context over them.
    pub app: crate::apps::AwsApp,
    /// What SSM holds.
    pub secrets: evreg::secrets::Secrets,
}

impl FunctionStack {
    /// `None` when no emulator is configured (see [`crate::emulator::sdk_config`]).
    pub async fn deploy(label: &str) -> Option<Self> {
        let secrets = evreg::secrets::Secrets::generate();
        let app = crate::apps::AwsApp::start_with(label, &secrets, None).await?;
        let ssm = aws_sdk_ssm::Client::new(&app.sdk);
        let stage = &app.resources.prefix;
        for (name, value) in [
            (
                format!("/evreg/{stage}/jwt-keys"),
                serde_json::to_string(&secrets.jwt).expect("a key ring"),
            ),
            (
                format!("/evreg/{stage}/attendee-secret"),
                secrets.attendee.to_base64(),
            ),
            (
                format!("/evreg-payments/{stage}/stripe-secret-key"),
                secrets.payments.secret_key.clone().expect("a secret key"),
            ),
            (
                format!("/evreg-payments/{stage}/stripe-webhook-secrets"),
                secrets.payments.webhook_secrets.join(","),
            ),
        ] {
            ssm.put_parameter()
                .name(name)
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .send()
                .await
                .expect("put parameter");
        }
        Some(Self { app, secrets })
    }

    /// The stack parameters the template's `!Sub`s and `!Ref`s name.
    pub fn parameters(&self) -> std::collections::BTreeMap<&'static str, String> {
        let prefix = &self.app.resources.prefix;
        std::collections::BTreeMap::from([
            ("Stage", prefix.clone()),
            ("PublicUrl", crate::apps::TEST_PUBLIC_URL.to_owned()),
            (
                "MailFrom",
                format!("tickets@{}.evreg.test", prefix.to_lowercase()),
            ),
        ])
    }

    /// The environment `template.yaml` gives the function `binary`, with Stripe's API at
    /// the stand-in (`STRIPE_API_BASE`).
    pub fn environment(&self, binary: &str) -> Vec<(String, String)> {
        let mut environment =
            crate::provision::function_environment(&self.app.resources, binary, &self.parameters())
                .unwrap_or_else(|e| panic!("{binary}: {e}"));
        environment.insert("STRIPE_API_BASE".to_owned(), self.app.stripe.url.clone());
        environment.into_iter().collect()
    }
}
