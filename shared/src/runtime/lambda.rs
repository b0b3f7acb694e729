//! Lambda entry points: build the context once per cold start, then serve events.

use std::future::Future;
use std::sync::Arc;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsBatchResponse, SqsEvent};
use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{service_fn, Request};

use crate::adapters::aws::{load_key_ring, DynamoReadModel, DynamoStore, SnsBus};
use crate::app::AppContext;
use crate::auth::{KeyRing, Passwords, TokenService};
use crate::handlers::routes::into_response;
use crate::http::ApiResult;
use crate::ports::{BoxError, SystemClock};
use crate::runtime::logging;

/// The AWS resources a function works on, named by the template's environment variables.
#[derive(Debug, Clone)]
pub struct AwsResources {
    pub write_table: String,
    pub read_table: String,
    pub topic_arn: String,
}

impl AwsResources {
    pub fn from_env() -> Result<Self, BoxError> {
        Ok(Self {
            write_table: env("WRITE_TABLE")?,
            read_table: env("READ_TABLE")?,
            topic_arn: env("TOPIC_ARN")?,
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
    keys: &KeyRing,
) -> Result<AppContext, BoxError> {
    let dynamodb = aws_sdk_dynamodb::Client::new(sdk);
    Ok(AppContext {
        store: Arc::new(DynamoStore::new(dynamodb.clone(), &resources.write_table)),
        read_model: Arc::new(DynamoReadModel::new(dynamodb, &resources.read_table)),
        bus: Arc::new(SnsBus::new(
            aws_sdk_sns::Client::new(sdk),
            &resources.topic_arn,
        )),
        clock: Arc::new(SystemClock),
        tokens: TokenService::new(keys)?,
        passwords: Passwords::default(),
    })
}

/// Everything a cold start reads: SDK config, resource names, and the JWT keys from SSM.
pub async fn context_from_env() -> Result<Arc<AppContext>, BoxError> {
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let resources = AwsResources::from_env()?;
    let keys = load_key_ring(&aws_sdk_ssm::Client::new(&sdk), &env("JWT_KEYS_PARAMETER")?).await?;
    Ok(Arc::new(aws_context(&sdk, &resources, &keys)?))
}

/// `main` of a route Lambda: `run_route(|ctx, req| async move { x::handle(&ctx, req).await })`.
/// Taking the handler as a closure links only that route's code into its binary.
pub async fn run_route<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Arc<AppContext>, Request) -> Fut,
    Fut: Future<Output = ApiResult> + Send,
{
    logging::init_json();
    let ctx = context_from_env().await?;
    lambda_http::run(service_fn(move |req| {
        let response = handler(ctx.clone(), req);
        async move { Ok::<_, lambda_http::Error>(into_response(response.await)) }
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
