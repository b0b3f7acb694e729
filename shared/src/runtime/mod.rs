//! Process entry points: the Lambda functions (`aws`: [`lambda`], their EMF metrics
//! [`emf`]) and the embedded mode (`embedded`: the application [`embedded`], served by
//! [`dev_server`] through API Gateway's emulation [`apigw`], with its throttling
//! [`edge`], its checkout pages [`dev_checkout`] and its secrets [`dev_secrets`]); the
//! operator's [`admin`] and the [`logging`] both use.

pub mod admin;
#[cfg(feature = "embedded")]
pub mod apigw;
#[cfg(feature = "embedded")]
pub mod dev_checkout;
#[cfg(feature = "embedded")]
pub mod dev_secrets;
#[cfg(feature = "embedded")]
pub mod dev_server;
#[cfg(feature = "embedded")]
pub mod edge;
#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "aws")]
pub mod emf;
#[cfg(feature = "aws")]
pub mod lambda;
#[cfg(feature = "aws")]
mod lazy;
/// JSON logs for Lambda and the dev server.
pub mod logging;
