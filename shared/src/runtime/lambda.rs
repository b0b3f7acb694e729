//! Lambda entry points: build the context once per cold start, then serve events.

use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{service_fn, Request};

use crate::adapters::aws::{
    dynamodb_client, load_sdk_config, load_secrets, s3_client, CloudFrontCdn, DynamoReadModel,
    DynamoStore, NoCdn, NoPayments, PaymentParameters, S3Blobs, SesMailer, SnsBus, StripePayments,
    STRIPE_API,
};
use crate::app::AppContext;
use crate::auth::{Passwords, TokenService};
use crate::handlers::routes::{authorize, into_response, Caller, Route};
use crate::handlers::schedules::holds_expirer;
use crate::http::{ApiResult, CursorSigner};
use crate::ports::{BoxError, Cdn, Payments, SystemClock};
use crate::runtime::logging;
use crate::secrets::Secrets;

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

/// The context over AWS adapters; SDK clients are built here, once.
pub fn aws_context(
    sdk: &SdkConfig,
    resources: &AwsResources,
    secrets: &Secrets,
) -> Result<AppContext, BoxError> {
    let dynamodb = dynamodb_client(sdk);
    let store = Arc::new(DynamoStore::new(dynamodb.clone(), &resources.write_table));
    let payment_secrets = &secrets.payments;
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
    Ok(AppContext {
        events: store.clone(),
        registrations: store.clone(),
        payment_records: store.clone(),
        payments,
        users: store.clone(),
        identity: store.clone(),
        idempotency: store.clone(),
        outbox: store,
        read_model: Arc::new(DynamoReadModel::new(dynamodb, &resources.read_table)),
        bus: Arc::new(SnsBus::new(
            aws_sdk_sns::Client::new(sdk),
            &resources.topic_arn,
        )),
        blobs: Arc::new(S3Blobs::new(s3_client(sdk), &resources.tickets_bucket)),
        mailer: Arc::new(SesMailer::new(
            aws_sdk_ses::Client::new(sdk),
            &resources.mail_from,
        )),
        cdn: match &resources.distribution_id {
            Some(id) => Arc::new(CloudFrontCdn::new(aws_sdk_cloudfront::Client::new(sdk), id))
                as Arc<dyn Cdn>,
            None => Arc::new(NoCdn),
        },
        clock: Arc::new(SystemClock),
        tokens: TokenService::new(&secrets.jwt)?,
        passwords: Passwords::default(),
        attendee_keys: secrets.attendee.clone(),
        cursors: CursorSigner::new(&secrets.attendee),
        public_url: resources.public_url.clone(),
    })
}

/// Everything a cold start reads: SDK config, resource names, and the secrets from SSM.
pub async fn context_from_env() -> Result<Arc<AppContext>, BoxError> {
    let sdk = load_sdk_config().await;
    let resources = AwsResources::from_env()?;
    let payments = PaymentParameters {
        secret_key: std::env::var("STRIPE_SECRET_KEY_PARAMETER").ok(),
        webhook_secrets: std::env::var("STRIPE_WEBHOOK_SECRETS_PARAMETER").ok(),
    };
    let secrets = load_secrets(
        &aws_sdk_ssm::Client::new(&sdk),
        &env("JWT_KEYS_PARAMETER")?,
        &env("ATTENDEE_SECRET_PARAMETER")?,
        &payments,
    )
    .await?;
    Ok(Arc::new(aws_context(&sdk, &resources, &secrets)?))
}

/// `main` of a route Lambda:
/// `run_route(Route::X, |ctx, req, caller| async move { x::handle(&ctx, req, caller).await })`.
/// Every request is authorized under the route's [`Access`](crate::handlers::routes::Access)
/// first, exactly as the dev server's `Route::handle` does. Taking the handler as a closure
/// links only that route's code into its binary.
pub async fn run_route<F, Fut>(route: Route, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<AppContext>, Request, Caller) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ApiResult> + Send,
{
    logging::init_json();
    let ctx = context_from_env().await?;
    let handler = Arc::new(handler);
    let access = route.spec().access;
    lambda_http::run(service_fn(move |req: Request| {
        let (ctx, handler) = (ctx.clone(), handler.clone());
        async move {
            let response = match authorize(access, &ctx, &req).await {
                Ok(caller) => handler(ctx, req, caller).await,
                Err(refused) => Err(refused),
            };
            Ok::<_, lambda_http::Error>(into_response(response))
        }
    }))
    .await
}

/// `main` of the scheduled holds expirer (every minute): releases every lapsed hold
/// ([`crate::handlers::schedules::holds_expirer`]); the EventBridge event's content is
/// irrelevant.
pub async fn run_holds_expirer() -> Result<(), lambda_http::Error> {
    logging::init_json();
    let ctx = context_from_env().await?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let ctx = ctx.clone();
        async move {
            let released = holds_expirer::run(&ctx).await?;
            if released > 0 {
                tracing::info!(released, "released lapsed holds");
            }
            Ok::<_, lambda_http::Error>(serde_json::json!({ "released": released }))
        }
    }))
    .await
}

/// `main` of a worker Lambda fed by an SQS event source mapping with partial batch responses.
pub async fn run_worker<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<AppContext>, SqsEvent) -> Fut,
    Fut: Future<Output = SqsBatchResponse> + Send,
{
    logging::init_json();
    let ctx = context_from_env().await?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let response = handler(ctx.clone(), event.payload);
        async move { Ok::<_, lambda_http::Error>(response.await) }
    }))
    .await
}

/// `main` of the scheduled outbox sweeper; the EventBridge event's content is irrelevant.
pub async fn run_sweeper() -> Result<(), lambda_http::Error> {
    logging::init_json();
    let ctx = context_from_env().await?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let ctx = ctx.clone();
        async move {
            let republished = ctx.sweep_outbox().await?;
            if republished > 0 {
                tracing::warn!(republished, "republished events left in the outbox");
            }
            Ok::<_, lambda_http::Error>(serde_json::json!({ "republished": republished }))
        }
    }))
    .await
}
