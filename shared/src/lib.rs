//! evreg: event registration on AWS Lambda.
//!
//! The crate is the hexagon: [`domain`] is pure, [`ports`] are the traits it needs,
//! [`adapters`] implement them for AWS and for the embedded local mode, [`services`] are
//! what several entrances do alike over the ports, and [`handlers`] are the routes,
//! workers and schedules that both the Lambda binaries and the dev server run, over an
//! [`AppContext`]. [`runtime`] holds the process entry points. See ARCHITECTURE.md.

pub mod adapters;
pub mod app;
pub mod auth;
pub mod domain;
pub mod handlers;
pub mod http;
pub mod mail;
pub mod payments;
pub mod ports;
pub mod runtime;
pub mod secrets;
pub mod services;
pub mod telemetry;
pub mod tickets;

pub use app::AppContext;
