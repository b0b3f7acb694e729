//! Embedded adapters: everything the AWS adapters do, in one process with no AWS.

pub mod bus;
pub mod cdn;
pub mod files;
pub mod mailbox;
pub mod sqlite;
mod sqlite_events;
mod sqlite_identity;
mod sqlite_users;

pub use bus::{BusMonitor, DeadLetter, EmbeddedBus, QueueSettings, Queues};
pub use cdn::LoggingCdn;
pub use files::FileBlobs;
pub use mailbox::MailboxDir;
pub use sqlite::SqliteStore;
