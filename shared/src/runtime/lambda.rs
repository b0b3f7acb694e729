//! Lambda entry points: build the context once per cold start, then serve events.
//!
//! A cold start does only what its function declared it needs ([`Needs`], a column of the
//! route, worker and schedule tables): it reads those secrets from SSM, if any, and meanwhile opens
//! its first DynamoDB connection (a `GetItem` of a key no item has: see
//! [`open_connection`]), so that the first request does not pay the TLS handshake. The
//! SNS, S3, SES and CloudFront clients are built when first used.
//! A start that fails posts its error to the Runtime API's `/runtime/init/error`.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{service_fn, Request, RequestExt};
use tokio::sync::OnceCell;
use tracing::Instrument;

use crate::adapters::aws::table::open_connection;
use crate::adapters::aws::{
    dynamodb_client, load_sdk_config, load_some_secrets, s3_client, CloudFrontCdn, DynamoReadModel,
    DynamoStore, NoCdn, NoPayments, PaymentParameters, S3Blobs, SesMailer, SnsBus, StripePayments,
    STRIPE_API,
};
use crate::app::AppContext;
use crate::auth::{KeyRing, Passwords, TokenService};
use crate::handlers::declare::{Needs, Warm};
use crate::handlers::entrance;
use crate::handlers::routes::{Caller, Route};
use crate::handlers::schedules::Schedule;
use crate::handlers::workers::Worker;
use crate::http::{ApiError, ApiResult, CursorSigner};
use crate::ports::{BoxError, Cdn, Payments, SystemClock};
use crate::runtime::emf::Invocations;
use crate::runtime::lazy::OnFirstUse;
use crate::runtime::logging;
use crate::secrets::{PaymentSecrets, Secrets};
use crate::tickets::AttendeeKeys;

/// The AWS resources a function works on, named by the template's environment variables.
#[derive(Debug, Clone)]
pub struct AwsResources {
    /// The write table (events, registrations, users, sessions, outbox…).
    pub write_table: String,
    /// The read table (CQRS read model).
    pub read_table: String,
    /// The domain-event topic.
    pub topic_arn: String,
    /// Where ticket images go.
    pub tickets_bucket: String,
    /// The verified SES sender.
    pub mail_from: String,
    /// The API's public base URL, for links in emails.
    pub public_url: String,
    /// The CloudFront distribution in front of the API; only the CDN worker has it (the
    /// route functions cannot: the distribution depends on the API, which depends on them).
    pub distribution_id: Option<String>,
    /// Stripe's API base URL ([`STRIPE_API`] unless `STRIPE_API_BASE` says otherwise).
    pub stripe_api: String,
}

impl AwsResources {
    /// The names from the environment the template sets (`WRITE_TABLE`, `READ_TABLE`,
    /// `TOPIC_ARN`, `TICKETS_BUCKET`, `MAIL_FROM`, `PUBLIC_URL`, `DISTRIBUTION_ID`,
    /// `STRIPE_API_BASE`).
    pub fn from_env() -> Result<Self, BoxError> {
        Ok(Self {
            write_table: env("WRITE_TABLE")?,
            read_table: env("READ_TABLE")?,
            topic_arn: env("TOPIC_ARN")?,
            tickets_bucket: env("TICKETS_BUCKET")?,
            mail_from: env("MAIL_FROM")?,
            public_url: env("PUBLIC_URL")?,
            distribution_id: std::env::var("DISTRIBUTION_ID").ok(),
            stripe_api: std::env::var("STRIPE_API_BASE").unwrap_or_else(|_| STRIPE_API.to_owned()),
        })
    }
}

fn env(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set").into())
}

/// The context over AWS adapters, with every secret. The DynamoDB client is built here;
/// the SNS, S3, SES and CloudFront clients on first use.
pub fn aws_context(
    sdk: &SdkConfig,
    resources: &AwsResources,
    secrets: &Secrets,
) -> Result<AppContext, BoxError> {
    Ok(context_over(
        sdk,
        dynamodb_client(sdk),
        resources,
        TokenService::new(&secrets.jwt)?,
        secrets.attendee.clone(),
        &secrets.payments,
    ))
}

/// The context over `dynamodb` (each SDK client has its own connection pool: the client
/// that opened the connection at init is the one that must serve the requests).
fn context_over(
    sdk: &SdkConfig,
    dynamodb: aws_sdk_dynamodb::Client,
    resources: &AwsResources,
    tokens: TokenService,
    attendee_keys: AttendeeKeys,
    payment_secrets: &PaymentSecrets,
) -> AppContext {
    let store = Arc::new(DynamoStore::new(dynamodb.clone(), &resources.write_table));
    let payments: Arc<dyn Payments> =
        if payment_secrets.secret_key.is_some() || !payment_secrets.webhook_secrets.is_empty() {
            Arc::new(StripePayments::new(
                &resources.stripe_api,
                payment_secrets.secret_key.clone().unwrap_or_default(),
                payment_secrets.webhook_secrets.clone(),
            ))
        } else {
            Arc::new(NoPayments)
        };
    let (bus_sdk, topic) = (sdk.clone(), resources.topic_arn.clone());
    let (blobs_sdk, bucket) = (sdk.clone(), resources.tickets_bucket.clone());
    let (mail_sdk, from) = (sdk.clone(), resources.mail_from.clone());
    AppContext {
        events: store.clone(),
        registrations: store.clone(),
        payment_records: store.clone(),
        payments,
        users: store.clone(),
        identity: store.clone(),
        idempotency: store.clone(),
        outbox: store,
        read_model: Arc::new(DynamoReadModel::new(dynamodb, &resources.read_table)),
        bus: Arc::new(OnFirstUse::new(move || {
            SnsBus::new(aws_sdk_sns::Client::new(&bus_sdk), &topic)
        })),
        blobs: Arc::new(OnFirstUse::new(move || {
            S3Blobs::new(s3_client(&blobs_sdk), &bucket)
        })),
        mailer: Arc::new(OnFirstUse::new(move || {
            SesMailer::new(aws_sdk_ses::Client::new(&mail_sdk), &from)
        })),
        cdn: match &resources.distribution_id {
            Some(id) => {
                let (cdn_sdk, id) = (sdk.clone(), id.clone());
                Arc::new(OnFirstUse::new(move || {
                    CloudFrontCdn::new(aws_sdk_cloudfront::Client::new(&cdn_sdk), &id)
                })) as Arc<dyn Cdn>
            }
            None => Arc::new(NoCdn),
        },
        clock: Arc::new(SystemClock),
        tokens,
        passwords: Passwords::default(),
        cursors: CursorSigner::new(&attendee_keys),
        attendee_keys,
        public_url: resources.public_url.clone(),
    }
}

/// A cold start's context: what the environment names, the secrets `needs` declares (the
/// others stand in as random keys nobody shares, which verify nothing a caller holds), and
/// the first DynamoDB connection opened.
struct ColdStart {
    ctx: Arc<AppContext>,
    sdk: SdkConfig,
    /// `JWT_KEYS_PARAMETER`, when the key ring is fetched on demand (see [`Contexts`]).
    jwt_on_demand: Option<String>,
}

impl ColdStart {
    /// `jwt_on_demand`: a route whose [`Needs`] leave the key ring out still checks a bearer
    /// token when one comes, so it needs the ring's parameter name.
    async fn from_env(needs: Needs, jwt_on_demand: bool) -> Result<Self, BoxError> {
        return_large_blocks_to_the_kernel();
        let sdk = load_sdk_config().await;
        let resources = AwsResources::from_env()?;
        let jwt_parameter = (needs.jwt_keys || jwt_on_demand)
            .then(|| env("JWT_KEYS_PARAMETER"))
            .transpose()?;
        let attendee_parameter = needs
            .attendee_secret
            .then(|| env("ATTENDEE_SECRET_PARAMETER"))
            .transpose()?;

        // The payment provider's secrets where the template names their parameters: the
        // functions that take money (and only they may read them).
        let payments = PaymentParameters {
            secret_key: std::env::var("STRIPE_SECRET_KEY_PARAMETER").ok(),
            webhook_secrets: std::env::var("STRIPE_WEBHOOK_SECRETS_PARAMETER").ok(),
        };
        // The secrets on a task of their own, so that its SDK work runs beside the
        // connection's on another thread, not only while that one waits.
        let secrets = tokio::spawn({
            let (sdk, jwt, attendee) = (
                sdk.clone(),
                jwt_parameter.clone().filter(|_| needs.jwt_keys),
                attendee_parameter.clone(),
            );
            async move {
                let ssm = aws_sdk_ssm::Client::new(&sdk);
                load_some_secrets(&ssm, jwt.as_deref(), attendee.as_deref(), &payments).await
            }
        });
        let dynamodb = dynamodb_client(&sdk);
        let table = match needs.warm {
            Warm::WriteTable => Some(resources.write_table.as_str()),
            Warm::ReadTable => Some(resources.read_table.as_str()),
            Warm::Nothing => None,
        };
        if let Some(table) = table {
            open_connection(&dynamodb, table).await?;
        }
        let secrets = secrets.await??;

        let tokens = TokenService::new(&secrets.jwt.unwrap_or_else(|| KeyRing::generate("none")))?;
        let attendee = secrets.attendee.unwrap_or_else(AttendeeKeys::generate);
        Ok(Self {
            ctx: Arc::new(context_over(
                &sdk,
                dynamodb,
                &resources,
                tokens,
                attendee,
                &secrets.payments,
            )),
            sdk,
            jwt_on_demand: jwt_parameter.filter(|_| !needs.jwt_keys && jwt_on_demand),
        })
    }
}

/// Allocations of 4 MiB and more straight from the kernel (`mmap`) and back to it when
/// freed. glibc's default raises this threshold to the size of the first large block freed
/// and from then on serves such blocks from its heaps, where they fragment: argon2's 19 MiB
/// per password hash made a function's peak RSS grow from 34 MiB to 130 MiB (login) and
/// 225 MiB (user creation) within 10 to 30 invocations on a 256 MB function; fixed, it stays
/// at 34 MiB (BENCHMARKS.md §4).
fn return_large_blocks_to_the_kernel() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt sets a parameter of glibc's allocator, under the allocator's own lock;
    // it does not touch memory the program holds.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// Tells the Runtime API why the start failed (`POST /runtime/init/error`), as Lambda
/// expects of a custom runtime, and returns the error for `main` to exit with.
async fn init_failed(error: BoxError) -> lambda_http::Error {
    tracing::error!(%error, "init failed");
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_none() {
        return error;
    }
    let body = serde_json::json!({ "errorType": "InitError", "errorMessage": error.to_string() });
    let request = lambda_runtime_api_client::build_request()
        .method(http::Method::POST)
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(lambda_runtime_api_client::body::Body::from(
            body.to_string(),
        ));
    match request {
        Ok(request) => {
            let client = lambda_runtime_api_client::PooledClient::builder().build();
            if let Err(report) = client.call(request).await {
                tracing::error!(error = %report, "reporting the init error failed");
            }
        }
        Err(report) => tracing::error!(error = %report, "building the init error report failed"),
    }
    error
}

/// The context a route's request runs with: the cold start's, or — on a route that does
/// not load the JWT key ring at init, for a request carrying a bearer token — the same with
/// the key ring, fetched from SSM once, on the first such request.
struct Contexts {
    start: ColdStart,
    with_keys: OnceCell<Arc<AppContext>>,
}

impl Contexts {
    async fn for_request(&self, req: &Request) -> Result<Arc<AppContext>, BoxError> {
        let Some(parameter) = &self.start.jwt_on_demand else {
            return Ok(self.start.ctx.clone());
        };
        if !req.headers().contains_key(http::header::AUTHORIZATION) {
            return Ok(self.start.ctx.clone());
        }
        self.with_keys
            .get_or_try_init(|| async {
                let ssm = aws_sdk_ssm::Client::new(&self.start.sdk);
                let ring = load_some_secrets(&ssm, Some(parameter), None, &Default::default())
                    .await?
                    .jwt
                    .ok_or("the JWT key ring was not read")?;
                Ok::<_, BoxError>(Arc::new(AppContext {
                    tokens: TokenService::new(&ring)?,
                    ..(*self.start.ctx).clone()
                }))
            })
            .await
            .cloned()
    }
}

/// The Lambda functions' `main`: `job` on a multi-threaded Tokio runtime, as
/// `#[tokio::main]` would run it.
pub fn block_on(
    job: impl Future<Output = Result<(), lambda_http::Error>>,
) -> Result<(), lambda_http::Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(job)
}

/// A route Lambda's whole `main`: `evreg::route_function!(registrations_create);` serves
/// the route of that handler module ([`crate::handlers::routes::by_module`]) with its
/// handler, through [`run_route`].
#[macro_export]
macro_rules! route_function {
    ($module:ident) => {
        fn main() -> Result<(), ::lambda_http::Error> {
            $crate::runtime::lambda::block_on($crate::runtime::lambda::run_route(
                $crate::handlers::routes::by_module::$module,
                |ctx, req, caller| async move {
                    $crate::handlers::routes::$module::handle(&ctx, req, caller).await
                },
            ))
        }
    };
}

/// A worker Lambda's whole `main`: `evreg::worker_function!(email);` runs that worker
/// ([`crate::handlers::workers::by_module`]) with its handler, through [`run_worker`].
#[macro_export]
macro_rules! worker_function {
    ($module:ident) => {
        fn main() -> Result<(), ::lambda_http::Error> {
            $crate::runtime::lambda::block_on($crate::runtime::lambda::run_worker(
                $crate::handlers::workers::by_module::$module,
                |ctx, batch| async move {
                    $crate::handlers::workers::$module::handle(&ctx, batch).await
                },
            ))
        }
    };
}

/// A scheduled Lambda's whole `main`: `evreg::schedule_function!(holds_expirer);` runs
/// that job ([`crate::handlers::schedules::by_module`]) on every invocation, through
/// [`run_schedule`].
#[macro_export]
macro_rules! schedule_function {
    ($module:ident) => {
        fn main() -> Result<(), ::lambda_http::Error> {
            $crate::runtime::lambda::block_on($crate::runtime::lambda::run_schedule(
                $crate::handlers::schedules::by_module::$module,
                |ctx| async move { $crate::handlers::schedules::$module::run(&ctx).await },
            ))
        }
    };
}

/// Serves `route` with `handler` (what [`route_function!`](crate::route_function) writes).
/// Every request goes through [`entrance::enter`] (its span, its metrics, authorization
/// under the route's [`Access`](crate::handlers::routes::Access)) exactly as on the dev
/// server, and its metrics leave as EMF ([`Invocations`]). Taking the handler as a closure
/// links only that route's code into its binary. The cold start reads what the route's
/// row [`Needs`].
pub async fn run_route<F, Fut>(route: Route, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<AppContext>, Request, Caller) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ApiResult> + Send,
{
    let started = Instant::now();
    logging::init_json();
    let start = match ColdStart::from_env(route.spec().needs, true).await {
        Ok(start) => start,
        Err(error) => return Err(init_failed(error).await),
    };
    let contexts = Arc::new(Contexts {
        start,
        with_keys: OnceCell::new(),
    });
    let handler = Arc::new(handler);
    let invocations = Arc::new(Invocations::start(route.spec().binary, started));
    lambda_http::run(service_fn(move |req: Request| {
        let (contexts, handler, invocations) =
            (contexts.clone(), handler.clone(), invocations.clone());
        async move {
            let lambda = req.lambda_context_ref().cloned().unwrap_or_default();
            invocations.begin(&lambda);
            let response = match contexts.for_request(&req).await {
                Ok(ctx) => {
                    entrance::enter(route, &ctx, req, |req, caller| {
                        handler(ctx.clone(), req, caller)
                    })
                    .await
                }
                Err(error) => ApiError::Internal(error).to_response(),
            };
            invocations.end(&lambda);
            Ok::<_, lambda_http::Error>(response)
        }
    }))
    .await
}

/// Runs `worker` with `handler` (what [`worker_function!`](crate::worker_function) writes),
/// fed by an SQS event source mapping with partial batch responses. Every batch goes
/// through [`Worker::instrumented`] (its span and metrics) as on the embedded bus, and its
/// metrics leave as EMF ([`Invocations`]). The cold start reads what the worker's row
/// [`Needs`].
pub async fn run_worker<F, Fut>(worker: Worker, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<AppContext>, SqsEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = SqsBatchResponse> + Send,
{
    let started = Instant::now();
    logging::init_json();
    let ctx = match ColdStart::from_env(worker.spec().needs, false).await {
        Ok(start) => start.ctx,
        Err(error) => return Err(init_failed(error).await),
    };
    let handler = Arc::new(handler);
    let invocations = Arc::new(Invocations::start(worker.binary(), started));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (ctx, handler, invocations) = (ctx.clone(), handler.clone(), invocations.clone());
        async move {
            invocations.begin(&event.context);
            let response = worker
                .instrumented(&ctx, event.payload, |batch| handler(ctx.clone(), batch))
                .await;
            invocations.end(&event.context);
            Ok::<_, lambda_http::Error>(response)
        }
    }))
    .await
}

/// Runs `schedule`'s `job` on every invocation (what
/// [`schedule_function!`](crate::schedule_function) writes; an EventBridge schedule, whose
/// event's content is irrelevant), inside a span naming the function and the invocation,
/// and answers `{"<counts>": n}` (the row's [`counts`](crate::handlers::schedules::ScheduleSpec::counts));
/// its metrics leave as EMF. The cold start reads what the job's row [`Needs`].
pub async fn run_schedule<F, Fut>(schedule: Schedule, job: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<AppContext>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<usize, BoxError>> + Send,
{
    let started = Instant::now();
    logging::init_json();
    let spec = schedule.spec();
    let ctx = match ColdStart::from_env(spec.needs, false).await {
        Ok(start) => start.ctx,
        Err(error) => return Err(init_failed(error).await),
    };
    let job = Arc::new(job);
    let invocations = Arc::new(Invocations::start(spec.binary, started));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (ctx, job, invocations) = (ctx.clone(), job.clone(), invocations.clone());
        async move {
            invocations.begin(&event.context);
            let span = tracing::info_span!(
                "schedule",
                function = spec.binary,
                aws_request_id = event.context.request_id.as_str()
            );
            let done = job(ctx).instrument(span.clone()).await;
            if let Ok(count @ 1..) = done {
                span.in_scope(|| tracing::info!(count, "{}", spec.counts));
            }
            invocations.end(&event.context);
            done.map(|count| {
                let mut answer = serde_json::Map::new();
                answer.insert(spec.counts.to_owned(), count.into());
                serde_json::Value::Object(answer)
            })
        }
    }))
    .await
}
