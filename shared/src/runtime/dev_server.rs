//! The embedded mode: every route and worker of evreg in one local process, over the same
//! handler functions the Lambdas run, with SQLite for DynamoDB and an in-process bus for
//! SNS → SQS. Needs nothing but Rust.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt};
use tokio::net::TcpListener;

use async_trait::async_trait;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};

use super::edge::EdgeLimiter;
use crate::adapters::embedded::{
    BusMonitor, Consumer, DevPayments, EmbeddedBus, FileBlobs, LoggingCdn, MailboxDir,
    QueueSettings, Queues, SqliteStore, Subscription,
};
use crate::app::AppContext;
use crate::auth::{KeyRing, Passwords, TokenService};
use crate::handlers::routes::match_route;
use crate::handlers::schedules::holds_expirer;
use crate::handlers::workers::{Worker, WORKERS};
use crate::http::{ApiError, CursorSigner};
use crate::ports::{BoxError, SystemClock};
use crate::secrets::{PaymentSecrets, Secrets};
use crate::tickets::AttendeeKeys;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// API Gateway's payload limit is 10 MB; nothing evreg accepts comes near 1 MiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// Holds lapse on time to within this (the Lambda's schedule: a minute).
const HOLDS_EVERY: Duration = Duration::from_secs(5);

/// A running embedded application: the context the routes use and a handle on its workers.
pub struct Embedded {
    /// What the routes and workers run against.
    pub ctx: Arc<AppContext>,
    /// The worker queues, to wait for quiet or read dead letters.
    pub bus: BusMonitor,
    /// The payment provider the dev checkout pages are served from.
    pub payments: Arc<DevPayments>,
    /// The stand-in CDN, which remembers what it was asked to invalidate.
    pub cdn: Arc<LoggingCdn>,
}

/// What [`serve`] serves: the API over `ctx`, and the dev checkout pages of `payments`.
#[derive(Clone)]
pub struct Site {
    /// What the routes run against.
    pub ctx: Arc<AppContext>,
    /// The provider whose checkouts the `/_dev/checkout/…` pages show and pay.
    pub payments: Arc<DevPayments>,
    /// The per-address throttling of [`super::edge`], or none (tests that race many
    /// requests from one address, the fuzzer).
    pub limiter: Option<Arc<EdgeLimiter>>,
    /// The process's metrics, served as Prometheus text on `GET /metrics`; none: 404.
    pub metrics: Option<PrometheusHandle>,
}

impl Embedded {
    /// The API and the dev checkout pages of this app, for [`serve`], unthrottled.
    pub fn site(&self) -> Site {
        Site {
            ctx: self.ctx.clone(),
            payments: self.payments.clone(),
            limiter: None,
            metrics: None,
        }
    }
}

/// Where the embedded adapters keep files, and how they are reached.
pub struct EmbeddedConfig {
    /// Blobs (ticket images) under `<files>/blobs/`, mail under `<files>/mail/`.
    pub files: PathBuf,
    /// The base URL the API is reached on, for links in mail.
    pub public_url: String,
    /// How the in-process queues deliver.
    pub queues: QueueSettings,
}

/// The worker queues as the template wires them: one per worker, named for its binary,
/// subscribed to what the worker consumes.
pub fn worker_subscriptions() -> Vec<Subscription<Worker>> {
    WORKERS
        .iter()
        .map(|spec| Subscription {
            queue: spec.binary,
            kinds: spec.consumes,
            consumer: spec.worker,
        })
        .collect()
}

/// Starts the worker queues of [`worker_subscriptions`], each handing its batches to its
/// worker over `ctx`, as Lambda's event source mappings do.
pub fn start_workers(queues: Queues<Worker>, ctx: Arc<AppContext>) -> BusMonitor {
    queues.start(Arc::new(Workers(ctx)))
}

struct Workers(Arc<AppContext>);

#[async_trait]
impl Consumer<Worker> for Workers {
    async fn consume(&self, worker: Worker, batch: SqsEvent) -> SqsBatchResponse {
        worker.handle(&self.0, batch).await
    }
}

/// The sender of the embedded mailbox's `.eml` files.
const DEV_MAIL_FROM: &str = "evreg <no-reply@evreg.localhost>";

impl Embedded {
    /// Wires the embedded adapters and starts the worker consumers on the current runtime.
    pub fn start(
        store: SqliteStore,
        secrets: &Secrets,
        config: EmbeddedConfig,
    ) -> Result<Self, BoxError> {
        let (bus, queues) = EmbeddedBus::new(store.clone(), config.queues, &worker_subscriptions());
        let store = Arc::new(store);
        let webhook_secret = secrets
            .payments
            .webhook_secrets
            .first()
            .cloned()
            .ok_or("embedded mode needs a webhook secret for its dev checkout")?;
        let payments = Arc::new(DevPayments::new(&config.public_url, webhook_secret));
        let cdn = Arc::new(LoggingCdn::default());
        let ctx = Arc::new(AppContext {
            events: store.clone(),
            registrations: store.clone(),
            payment_records: store.clone(),
            users: store.clone(),
            identity: store.clone(),
            idempotency: store.clone(),
            outbox: store.clone(),
            read_model: store,
            payments: payments.clone(),
            bus: Arc::new(bus),
            blobs: Arc::new(FileBlobs::new(config.files.join("blobs"))),
            mailer: Arc::new(MailboxDir::new(config.files.join("mail"), DEV_MAIL_FROM)),
            cdn: cdn.clone(),
            clock: Arc::new(SystemClock),
            tokens: TokenService::new(&secrets.jwt)?,
            passwords: Passwords::default(),
            attendee_keys: secrets.attendee.clone(),
            cursors: CursorSigner::new(&secrets.attendee),
            public_url: config.public_url,
        });
        let bus = start_workers(queues, ctx.clone());
        Ok(Self {
            ctx,
            bus,
            payments,
            cdn,
        })
    }
}

/// Serves `site` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, site: Site) -> Result<(), BoxError> {
    loop {
        let (stream, peer) = listener.accept().await?;
        let site = site.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let site = site.clone();
                async move { Ok::<_, Infallible>(handle(&site, req, peer).await) }
            });
            if let Err(error) = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
}

/// Turns the hyper request into the request API Gateway would hand `lambda_http`, runs the
/// route's handler, and turns its response back.
async fn handle(
    site: &Site,
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> hyper::Response<Full<Bytes>> {
    let started = Instant::now();
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let response = if let Some(rest) = path.strip_prefix(super::checkout::PREFIX) {
        super::checkout::handle(site, &method, rest).await
    } else if let (Some(metrics), "/metrics", &hyper::Method::GET) =
        (&site.metrics, path.as_str(), &method)
    {
        lambda_http::Response::builder()
            .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")
            .body(Body::Text(metrics.render()))
            .unwrap_or_default()
    } else {
        match to_lambda_request(req, peer).await {
            Ok((route, request)) => {
                match site.limiter.as_ref().map(|l| l.admit(route, peer.ip())) {
                    Some(Err(limited)) => limited.to_response(),
                    _ => route.handle(&site.ctx, request).await,
                }
            }
            Err(error) => error.to_response(),
        }
    };
    tracing::info!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
        "request"
    );
    let (parts, body) = response.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(binary) => Bytes::from(binary),
        _ => Bytes::new(),
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

async fn to_lambda_request(
    req: hyper::Request<Incoming>,
    peer: SocketAddr,
) -> Result<(crate::handlers::routes::Route, lambda_http::Request), ApiError> {
    let (route, path_params) = match_route(req.method(), req.uri().path())?;
    // API Gateway hands path parameters over percent-decoded.
    let path_params = path_params
        .into_iter()
        .map(|(name, value)| (name, percent_decoded(&value)))
        .collect::<Vec<_>>();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let (mut parts, incoming) = req.into_parts();
    join_repeated_headers(&mut parts.headers);
    let bytes = Limited::new(incoming, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| ApiError::MalformedBody(format!("body could not be read: {e}")))?
        .to_bytes();
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        match String::from_utf8(bytes.to_vec()) {
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        }
    };

    let mut query_params: HashMap<String, Vec<String>> = HashMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        query_params
            .entry(key.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.request_id = Some(uuid::Uuid::new_v4().to_string());
    context.stage = Some("$default".to_owned());
    context.http.method = parts.method.clone();
    context.http.path = Some(parts.uri.path().to_owned());
    context.http.source_ip = Some(peer.ip().to_string());

    let request = lambda_http::Request::from_parts(parts, body)
        .with_path_parameters(path_params.into_iter().collect::<HashMap<_, _>>())
        .with_query_string_parameters(query_params)
        .with_request_context(RequestContext::ApiGatewayV2(context));
    Ok((route, request))
}

/// One value per header, as API Gateway's HTTP API hands them over: a repeated header's
/// values joined with commas, and cookies with `; ` (API Gateway puts them in `cookies`,
/// which `lambda_http` joins into one `Cookie` header).
fn join_repeated_headers(headers: &mut http::HeaderMap) {
    let names: Vec<http::HeaderName> = headers.keys().cloned().collect();
    for name in names {
        let values: Vec<&[u8]> = headers
            .get_all(&name)
            .iter()
            .map(|v| v.as_bytes())
            .collect();
        if values.len() < 2 {
            continue;
        }
        let separator: &[u8] = if name == http::header::COOKIE {
            b"; "
        } else {
            b","
        };
        let joined = values.join(separator);
        if let Ok(value) = http::HeaderValue::from_bytes(&joined) {
            headers.insert(name, value);
        }
    }
}

/// `%XX` sequences decoded (UTF-8; anything else is left as it was sent).
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(high << 4 | low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// Dev secrets live in `<data dir>/secrets/`, generated on first run, never in the repo.
pub fn load_or_generate_secrets(data_dir: &Path) -> Result<Secrets, BoxError> {
    let dir = data_dir.join("secrets");
    std::fs::create_dir_all(&dir)?;
    let jwt_path = dir.join("jwt-keys.json");
    let jwt = match std::fs::read_to_string(&jwt_path) {
        Ok(json) => KeyRing::from_json(&json)?,
        Err(_) => {
            let ring = KeyRing::generate("dev-1");
            write_private(&jwt_path, &serde_json::to_string_pretty(&ring)?)?;
            ring
        }
    };
    let webhook_path = dir.join("webhook-secret");
    let webhook = match std::fs::read_to_string(&webhook_path) {
        Ok(text) => text.trim().to_owned(),
        Err(_) => {
            let secret = PaymentSecrets::generated_webhook_secret();
            write_private(&webhook_path, &secret)?;
            secret
        }
    };
    let attendee_path = dir.join("attendee-secret");
    let attendee = match std::fs::read_to_string(&attendee_path) {
        Ok(text) => AttendeeKeys::from_base64(&text)?,
        Err(_) => {
            let keys = AttendeeKeys::generate();
            write_private(&attendee_path, &keys.to_base64())?;
            keys
        }
    };
    Ok(Secrets {
        jwt,
        attendee,
        payments: PaymentSecrets {
            secret_key: None,
            webhook_secrets: vec![webhook],
        },
    })
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents.as_bytes())
}

/// Settings from the environment: `PORT` (default 3000), `EVREG_DATA_DIR` (default
/// `.local`) and `EVREG_RATE_LIMITS` (`off` serves unthrottled; default on).
pub struct DevSettings {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// Where the database, secrets, blobs and mail live.
    pub data_dir: PathBuf,
    /// Whether each route's [`Throttle`](crate::handlers::routes::Throttle) applies per
    /// source address, as the deployed stage's does.
    pub rate_limits: bool,
}

impl DevSettings {
    /// From `PORT`, `EVREG_DATA_DIR` and `EVREG_RATE_LIMITS`, with their defaults.
    pub fn from_env() -> Result<Self, BoxError> {
        let port = match std::env::var("PORT") {
            Ok(raw) => raw
                .parse()
                .map_err(|_| format!("PORT={raw:?} is not a port number"))?,
            Err(_) => 3000,
        };
        let data_dir = std::env::var_os("EVREG_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".local"));
        let rate_limits = match std::env::var("EVREG_RATE_LIMITS").as_deref() {
            Err(_) | Ok("on") => true,
            Ok("off") => false,
            Ok(other) => return Err(format!("EVREG_RATE_LIMITS={other:?}: on or off").into()),
        };
        Ok(Self {
            port,
            data_dir,
            rate_limits,
        })
    }
}

/// The dev server's `main`: state in `<data dir>/evreg.sqlite3`, API on 127.0.0.1:`PORT`.
pub async fn run(settings: DevSettings) -> Result<(), BoxError> {
    std::fs::create_dir_all(&settings.data_dir)?;
    // Every `metrics` call of the process lands here, for `GET /metrics`.
    let metrics = PrometheusBuilder::new().install_recorder()?;
    let secrets = load_or_generate_secrets(&settings.data_dir)?;
    let store = SqliteStore::open(&settings.data_dir.join("evreg.sqlite3"))?;
    let started = crate::ports::Clock::now(&SystemClock);
    let (messages, claims) = store.recover_abandoned()?;
    if messages + claims > 0 {
        tracing::warn!(
            messages,
            claims,
            "resumed the messages and claims a previous process left in flight"
        );
    }
    let listener = TcpListener::bind(("127.0.0.1", settings.port)).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app = Embedded::start(
        store,
        &secrets,
        EmbeddedConfig {
            files: settings.data_dir.clone(),
            public_url: url.clone(),
            queues: QueueSettings::default(),
        },
    )?;

    tokio::spawn(sweep_forever(app.ctx.clone(), started));
    tokio::spawn(expire_holds_forever(app.ctx.clone()));
    println!(
        "evreg embedded mode: API and workers on {url} (data in {})",
        settings.data_dir.display()
    );
    println!("try:  curl -s {url}/health");
    println!(
        "      curl -s -X POST {url}/auth/signup -H 'content-type: application/json' \
         -d '{{\"email\":\"me@example.com\",\"password\":\"correct horse\"}}'"
    );

    tokio::select! {
        served = serve(listener, Site {
            limiter: settings.rate_limits.then(Default::default),
            metrics: Some(metrics),
            ..app.site()
        }) => served,
        _ = tokio::signal::ctrl_c() => {
            println!("shutting down: letting the workers finish");
            let _ = tokio::time::timeout(Duration::from_secs(5), app.bus.until_idle()).await;
            Ok(())
        }
    }
}

/// The embedded counterpart of the scheduled holds-expirer Lambda.
async fn expire_holds_forever(ctx: Arc<AppContext>) {
    let mut every = tokio::time::interval(HOLDS_EVERY);
    loop {
        every.tick().await;
        match holds_expirer::run(&ctx).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(released, "released lapsed holds"),
            Err(error) => tracing::warn!(%error, "holds expiry failed"),
        }
    }
}

/// The embedded counterpart of the scheduled sweeper Lambda; first, everything written
/// before this process `started` (a previous one died before publishing it).
async fn sweep_forever(ctx: Arc<AppContext>, started: time::OffsetDateTime) {
    match ctx.sweep_outbox_written_before(started).await {
        Ok(0) => {}
        Ok(swept) => tracing::warn!(
            swept,
            "republished what a previous process left in the outbox"
        ),
        Err(error) => tracing::warn!(%error, "outbox sweep failed"),
    }
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        match ctx.sweep_outbox().await {
            Ok(0) => {}
            Ok(swept) => tracing::warn!(swept, "republished events left in the outbox"),
            Err(error) => tracing::warn!(%error, "outbox sweep failed"),
        }
    }
}

#[cfg(test)]
mod translation_tests {
    use super::*;

    #[test]
    fn path_parameters_are_percent_decoded_like_api_gateways() {
        assert_eq!(percent_decoded("0190d3a4%2D0000"), "0190d3a4-0000");
        assert_eq!(percent_decoded("caf%C3%A9"), "café");
        assert_eq!(percent_decoded("100%"), "100%");
        assert_eq!(percent_decoded("%zz%4"), "%zz%4");
    }

    #[test]
    fn repeated_headers_are_joined_like_api_gateways() {
        let mut headers = http::HeaderMap::new();
        headers.append("accept", "application/json".parse().unwrap());
        headers.append("accept", "text/csv;q=0.5".parse().unwrap());
        headers.append("cookie", "a=1".parse().unwrap());
        headers.append("cookie", "b=2".parse().unwrap());
        headers.append("x-one", "1".parse().unwrap());
        join_repeated_headers(&mut headers);
        assert_eq!(headers["accept"], "application/json,text/csv;q=0.5");
        assert_eq!(headers["cookie"], "a=1; b=2");
        assert_eq!(headers["x-one"], "1");
        assert_eq!(headers.get_all("accept").iter().count(), 1);
    }
}
