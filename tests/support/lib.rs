//! Support code for the evreg integration tests.

pub mod api;
pub mod apps;
pub mod clock;
pub mod dev_server;
pub mod emulator;
pub mod esm;
pub mod faults;
pub mod fixtures;
pub mod mailbox;
pub mod provision;
pub mod qr;
pub mod runtime_api;
pub mod samples;
pub mod stores;
pub mod stripe;
