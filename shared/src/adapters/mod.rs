//! Port implementations: `aws` (DynamoDB, SNS, S3, SES, CloudFront, SSM) and `embedded`
//! (SQLite, the in-process bus, files). Nothing here imports `handlers` or `app`.

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(any(feature = "aws", feature = "embedded"))]
pub mod cursor;
#[cfg(any(feature = "aws", feature = "embedded"))]
mod decision;
#[cfg(feature = "embedded")]
pub mod embedded;
