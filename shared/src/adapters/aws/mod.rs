//! AWS adapters over the official SDK. Clients are built once per cold start from one
//! `SdkConfig`, so `AWS_ENDPOINT_URL` (or a service's own `AWS_ENDPOINT_URL_<SERVICE>`)
//! points them at an emulator.
//!
//! [`DynamoStore`] implements every write-side port over the one write table, a file per
//! port (`events.rs`, `registrations.rs`, `users.rs`, `identity.rs`, `idempotency.rs`,
//! `outbox.rs`); `keys.rs` owns the key layout of both tables, `table.rs` the item
//! plumbing and the cursor.

mod cloudfront;
mod events;
mod idempotency;
mod identity;
pub mod keys;
mod outbox;
mod payments;
mod read_model;
mod registrations;
mod s3;
pub mod sdk;
mod seats;
mod secrets;
mod ses;
mod sns;
mod stripe;
pub mod table;
mod users;

pub use cloudfront::{CloudFrontCdn, NoCdn};
pub use read_model::DynamoReadModel;
pub use s3::{s3_client, S3Blobs};
pub use sdk::{dynamodb_client, load_sdk_config, retry_config};
pub use secrets::{load_secrets, load_some_secrets, PaymentParameters, SomeSecrets};
pub use ses::SesMailer;
pub use sns::SnsBus;
pub use stripe::{NoPayments, StripePayments, STRIPE_API};

use table::Table;

/// The write table: events, registrations, users, sessions, idempotency records and the
/// outbox, each invariant a condition of DynamoDB itself.
pub struct DynamoStore {
    table: Table,
}

impl DynamoStore {
    /// The store in table `name`.
    pub fn new(client: aws_sdk_dynamodb::Client, name: impl Into<String>) -> Self {
        Self {
            table: Table::new(client, name),
        }
    }
}
