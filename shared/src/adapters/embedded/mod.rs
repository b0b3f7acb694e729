//! Embedded adapters: everything the AWS adapters do, in one process with no AWS.

pub mod bus;
pub mod files;
pub mod mailbox;
pub mod sqlite;

pub use bus::{BusMonitor, DeadLetter, EmbeddedBus, QueueSettings, Queues};
pub use files::FileBlobs;
pub use mailbox::MailboxDir;
pub use sqlite::SqliteStore;
