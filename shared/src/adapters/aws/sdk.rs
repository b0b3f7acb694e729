//! How every AWS SDK client of evreg retries, in one place: the SDK's standard retry mode
//! (exponential backoff with full jitter, a retry quota per service) with a budget that
//! fits a 10 s function, and DynamoDB's one retryable error the SDK does not know.
//! Retries live here rather than in hand loops, except where the SDK cannot make them
//! (a cancelled transaction: see [`super::table::transact`]).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::config::interceptors::InterceptorContext;
use aws_sdk_dynamodb::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_smithy_runtime_api::client::interceptors::context::Error;
use aws_smithy_runtime_api::client::retries::classifiers::RetryClassifierPriority;

/// Attempts per SDK call (the first and up to four retries).
pub const MAX_ATTEMPTS: u32 = 5;
/// The first retry waits up to this (full jitter); each next one up to twice as long.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
/// No retry waits longer than this: five attempts wait at most 0.75 s in all.
pub const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// The retry configuration of every client: the SDK's standard mode. Throttles
/// (`ThrottlingException`, `ProvisionedThroughputExceededException`, SNS/S3/SES
/// throttling codes), 5xx answers and dropped connections are retried by the SDK; what
/// outlasts [`MAX_ATTEMPTS`] reaches the caller as an error, a 503 to retry at the API.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(INITIAL_BACKOFF)
        .with_max_backoff(MAX_BACKOFF)
}

/// The SDK configuration from the environment (credentials, region, `AWS_ENDPOINT_URL`),
/// with [`retry_config`].
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .load()
        .await
}

/// The DynamoDB client over `sdk`, which also retries `TransactionConflictException`.
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .retry_classifier(TransactionConflictClassifier)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// DynamoDB refuses a single-item write (PutItem, UpdateItem, DeleteItem) to an item that
/// a transaction is changing with `TransactionConflictException`: the write did not
/// happen and may be sent again, but the SDK's classifiers do not list the code. (A
/// transaction that conflicts is cancelled instead, retried by `table::transact`.)
#[derive(Debug)]
struct TransactionConflictClassifier;

const TRANSACTION_CONFLICT: &str = "TransactionConflictException";

fn code_of<E>(error: &Error) -> Option<&str>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    error.downcast_ref::<E>().and_then(|e| e.code())
}

impl ClassifyRetry for TransactionConflictClassifier {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(error) = error.as_operation_error() else {
            return RetryAction::NoActionIndicated;
        };
        let code = code_of::<UpdateItemError>(error)
            .or_else(|| code_of::<PutItemError>(error))
            .or_else(|| code_of::<DeleteItemError>(error));
        if code == Some(TRANSACTION_CONFLICT) {
            RetryAction::transient_error()
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "DynamoDB TransactionConflictException"
    }

    fn priority(&self) -> RetryClassifierPriority {
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}
