//! AWS adapters over the official SDK. Clients are built once per cold start from one
//! `SdkConfig`, so `AWS_ENDPOINT_URL` points them all at an emulator.

mod cloudfront;
mod dynamo;
mod events;
mod identity;
mod lifecycle;
mod read_model;
mod s3;
mod secrets;
mod ses;
mod sns;
mod store;
mod users;

pub use cloudfront::{CloudFrontCdn, NoCdn};
pub use read_model::DynamoReadModel;
pub use s3::{s3_client, S3Blobs};
pub use secrets::load_secrets;
pub use ses::SesMailer;
pub use sns::SnsBus;
pub use store::DynamoStore;
