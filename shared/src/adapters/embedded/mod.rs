//! Embedded adapters: everything the AWS adapters do, in one process with no AWS — SQLite
//! for the store and read model, an in-process SNS→SQS bus, files for blobs, `.eml` files
//! for mail, a logging CDN. Nothing here imports `handlers` or `app`.

pub mod bus;
pub mod cdn;
pub mod files;
pub mod mailbox;
pub mod payments;
pub mod sqlite;

pub use bus::{BusMonitor, Consumer, DeadLetter, EmbeddedBus, QueueSettings, Queues, Subscription};
pub use cdn::LoggingCdn;
pub use files::FileBlobs;
pub use mailbox::MailboxDir;
pub use payments::DevPayments;
pub use sqlite::SqliteStore;
