//! The AWS emulator the test command starts once per run and names in `AWS_ENDPOINT_URL`:
//! moto server for `make test`, LocalStack for `make test-localstack`, which says so in
//! `EVREG_EMULATOR=localstack`. Without an endpoint, AWS-mode tests skip locally and fail in
//! CI. Both commands may also set `AWS_ENDPOINT_URL_DYNAMODB` (DynamoDB Local), which the SDK
//! loaded here prefers for DynamoDB alone.
//!
//! What an emulator lacks is declared here, once ([`Emulator::lacks`]); a test that needs it
//! asks [`skipped_without`] first and says on the terminal that it did not run.

use std::fmt;
use std::io::Write;

use aws_config::{BehaviorVersion, SdkConfig};

/// The emulator behind `AWS_ENDPOINT_URL`, as the test command declares it in
/// `EVREG_EMULATOR` (`moto`, the default, or `localstack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emulator {
    Moto,
    LocalStack,
}

/// An AWS feature some emulator does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// The CloudFront API (distributions, invalidations).
    CloudFront,
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CloudFront => "CloudFront",
        })
    }
}

impl Emulator {
    /// The emulator `EVREG_EMULATOR` names; panics on a name it does not know, so a typo
    /// cannot run moto's expectations against another emulator.
    pub fn current() -> Self {
        match std::env::var("EVREG_EMULATOR").as_deref() {
            Err(_) | Ok("moto") => Self::Moto,
            Ok("localstack") => Self::LocalStack,
            Ok(other) => panic!("EVREG_EMULATOR={other}: expected `moto` or `localstack`"),
        }
    }

    /// Why this emulator cannot serve `capability`, or `None` when it can.
    pub fn lacks(self, capability: Capability) -> Option<&'static str> {
        match (self, capability) {
            (Self::Moto, _) => None,
            (Self::LocalStack, Capability::CloudFront) => {
                Some("LocalStack's community edition does not emulate CloudFront")
            }
        }
    }
}

/// `true` when the emulator in use lacks `capability`, after writing
/// `skipped on <emulator>: <test>: <why>` straight to standard error, past the test
/// harness's capture, so the run shows what did not run. The test then returns. Call it on
/// the test's own thread (a `#[tokio::test]` body is), which the harness names after the test.
pub fn skipped_without(capability: Capability) -> bool {
    let emulator = Emulator::current();
    let Some(why) = emulator.lacks(capability) else {
        return false;
    };
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    // A failed write to the terminal changes nothing about the skip.
    let _ = writeln!(
        std::io::stderr(),
        "skipped on {emulator:?}: {test}: needs {capability}; {why}"
    );
    true
}

/// The SDK configuration pointing at the emulator, retrying as the functions do, or `None`
/// (after saying so) when no
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
            .retry_config(evreg::adapters::aws::retry_config())
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
