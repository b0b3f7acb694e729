//! The dev server (`make dev`): the embedded application ([`super::embedded`]) served
//! over HTTP on one local port — every route of the route table, entered as API Gateway
//! would enter it ([`super::apigw`]), each route's throttle per source address
//! ([`super::edge`]), the dev checkout pages standing in for Stripe
//! ([`super::dev_checkout`]), Prometheus metrics on `GET /metrics` — with its state and
//! generated secrets in a data directory ([`super::dev_secrets`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::Body;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use super::edge::EdgeLimiter;
use super::embedded::{self, Embedded, EmbeddedConfig};
use super::{apigw, dev_checkout, dev_secrets};
use crate::adapters::embedded::{DevPayments, QueueSettings, SqliteStore};
use crate::app::AppContext;
use crate::handlers::entrance;
use crate::ports::{BoxError, SystemClock};

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

impl From<&Embedded> for Site {
    /// The API and the dev checkout pages of `app`, unthrottled, without `/metrics`.
    fn from(app: &Embedded) -> Self {
        Self {
            ctx: app.ctx.clone(),
            payments: app.payments.clone(),
            limiter: None,
            metrics: None,
        }
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
    let response = if let Some(rest) = path.strip_prefix(dev_checkout::PREFIX) {
        dev_checkout::handle(&site.ctx, &site.payments, &method, rest).await
    } else if let (Some(metrics), "/metrics", &hyper::Method::GET) =
        (&site.metrics, path.as_str(), &method)
    {
        lambda_http::Response::builder()
            .header(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")
            .body(Body::Text(metrics.render()))
            .unwrap_or_default()
    } else {
        match apigw::to_lambda_request(req, peer).await {
            Ok((route, request)) => {
                match site.limiter.as_ref().map(|l| l.admit(route, peer.ip())) {
                    Some(Err(limited)) => limited.to_response(),
                    _ => entrance::serve(route, &site.ctx, request).await,
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
    let secrets = dev_secrets::load_or_generate_secrets(&settings.data_dir)?;
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

    tokio::spawn(embedded::run_schedules(app.ctx.clone(), started));
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
            ..Site::from(&app)
        }) => served,
        _ = tokio::signal::ctrl_c() => {
            println!("shutting down: letting the workers finish");
            let _ = tokio::time::timeout(Duration::from_secs(5), app.bus.until_idle()).await;
            Ok(())
        }
    }
}
