//! Lambda entry points: build the context once per cold start, then serve events.

use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{service_fn, Request};

use crate::adapters::aws::{
    load_secrets, s3_client, CloudFrontCdn, DynamoReadModel, DynamoStore, NoCdn, S3Blobs,
    SesMailer, SnsBus,
};
use crate::app::{AppContext, Secrets};
use crate::auth::{Passwords, Principal, TokenService};
use crate::handlers::routes::into_response;
use crate::http::ApiResult;
use crate::ports::Cdn;
use crate::ports::{BoxError, SystemClock};
use crate::runtime::logging;

/// The AWS resources a function works on, named by the template's environment variables.
#[derive(Debug, Clone)]
pub struct AwsResources {
    pub write_table: String,
    pub read_table: String,
    pub topic_arn: String,
    pub tickets_bucket: String,
    /// The verified SES sender.
    pub mail_from: String,
    /// The API's public base URL, for links in emails.
    pub public_url: String,
    /// The CloudFront distribution in front of the API; only the CDN worker has it (the
    /// route functions cannot: the distribution depends on the API, which depends on them).
    pub distribution_id: Option<String>,
}

impl AwsResources {
    pub fn from_env() -> Result<Self, BoxError> {
        Ok(Self {
            write_table: env("WRITE_TABLE")?,
            read_table: env("READ_TABLE")?,
            topic_arn: env("TOPIC_ARN")?,
            tickets_bucket: env("TICKETS_BUCKET")?,
            mail_from: env("MAIL_FROM")?,
            public_url: env("PUBLIC_URL")?,
            distribution_id: std::env::var("DISTRIBUTION_ID").ok(),
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
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(AppContext {
        store: Arc::new(DynamoStore::new(dynamodb.clone(), &resources.write_table)),
        read_model: Arc::new(DynamoReadModel::new(dynamodb, &resources.read_table)),
        bus: Arc::new(SnsBus::new(
            aws_sdk_sns::Client::new(sdk),
            &resources.topic_arn,
        )),
        blobs: Arc::new(S3Blobs::new(s3_client(sdk), &resources.tickets_bucket)),
        mailer: Arc::new(SesMailer::new(
            aws_sdk_sesv2::Client::new(sdk),
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
        public_url: resources.public_url.clone(),
    })
}

/// Everything a cold start reads: SDK config, resource names, and the secrets from SSM.
pub async fn context_from_env() -> Result<Arc<AppContext>, BoxError> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let resources = AwsResources::from_env()?;
    let secrets = load_secrets(
        &aws_sdk_ssm::Client::new(&sdk),
        &env("JWT_KEYS_PARAMETER")?,
        &env("ATTENDEE_SECRET_PARAMETER")?,
    )
    .await?;
    Ok(Arc::new(aws_context(&sdk, &resources, &secrets)?))
}

/// `main` of a route Lambda: `run_route(|ctx, req| async move { x::handle(&ctx, req).await })`.
/// Taking the handler as a closure links only that route's code into its binary.
pub async fn run_route<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<AppContext>, Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ApiResult> + Send,
{
    logging::init_json();
    let ctx = context_from_env().await?;
    let handler = Arc::new(handler);
    lambda_http::run(service_fn(move |req: Request| {
        let (ctx, handler) = (ctx.clone(), handler.clone());
        async move {
            // The same gate as the dev server's `Route::handle`: no deactivated account in.
            let response = match Principal::refuse_inactive(&req, &ctx).await {
                Ok(()) => handler(ctx, req).await,
                Err(refused) => Err(refused),
            };
            Ok::<_, lambda_http::Error>(into_response(response))
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
