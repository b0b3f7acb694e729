//! Process entry points: Lambda (`aws`) and the local dev server (`embedded`).

pub mod admin;
#[cfg(feature = "embedded")]
pub mod checkout;
#[cfg(feature = "embedded")]
pub mod dev_server;
#[cfg(feature = "embedded")]
pub mod edge;
#[cfg(feature = "aws")]
pub mod emf;
#[cfg(feature = "aws")]
pub mod lambda;
#[cfg(feature = "aws")]
mod lazy;
/// JSON logs for Lambda and the dev server.
pub mod logging;
pub mod needs;
