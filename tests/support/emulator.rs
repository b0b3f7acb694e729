//! The AWS emulator (moto server) the test command starts once per run and names in
//! `AWS_ENDPOINT_URL`. Without it, AWS-mode tests skip locally and fail in CI. The test
//! command's second run also sets `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local), which the
//! SDK loaded here prefers for DynamoDB alone.

use aws_config::{BehaviorVersion, SdkConfig};

/// The SDK configuration pointing at the emulator, or `None` (after saying so) when no
/// emulator is configured outside CI. In CI a missing emulator fails the test: a skipped
/// AWS suite must never pass for a green one.
pub async fn sdk_config() -> Option<SdkConfig> {
    if std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "AWS_ENDPOINT_URL is not set in CI: run the tests through `make test`"
        );
        eprintln!("skipped: AWS_ENDPOINT_URL is not set (run `make test` to start the emulator)");
        return None;
    }
    Some(
        aws_config::defaults(BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .load()
            .await,
    )
}

/// A prefix that isolates one test's tables, topic and queues from every other test's.
pub fn unique_prefix(label: &str) -> String {
    format!(
        "t{}-{label}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}
