//! Port implementations: `aws` (DynamoDB, SNS, SSM) and `embedded` (SQLite, in-process bus).

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "embedded")]
pub mod embedded;
