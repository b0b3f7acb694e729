//! Ports whose AWS client is built on first use, so a function's cold start builds only
//! the clients its handler calls: a route that never publishes never builds an SNS client.

use std::sync::OnceLock;

use async_trait::async_trait;

use crate::domain::Envelope;
use crate::ports::{BlobError, Blobs, Bus, BusError, Cdn, CdnError, Mail, MailError, Mailer};

/// An adapter built by `build` the first time a port method is called, then kept.
pub(crate) struct OnFirstUse<T> {
    build: Box<dyn Fn() -> T + Send + Sync>,
    cell: OnceLock<T>,
}

impl<T> OnFirstUse<T> {
    pub(crate) fn new(build: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self {
            build: Box::new(build),
            cell: OnceLock::new(),
        }
    }

    fn built(&self) -> &T {
        self.cell.get_or_init(|| (self.build)())
    }
}

#[async_trait]
impl<T: Bus> Bus for OnFirstUse<T> {
    async fn publish(&self, outbox: &[Envelope]) -> Result<(), BusError> {
        self.built().publish(outbox).await
    }
}

#[async_trait]
impl<T: Blobs> Blobs for OnFirstUse<T> {
    async fn put(&self, key: &str, content_type: &str, bytes: Vec<u8>) -> Result<(), BlobError> {
        self.built().put(key, content_type, bytes).await
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        self.built().get(key).await
    }
}

#[async_trait]
impl<T: Mailer> Mailer for OnFirstUse<T> {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.built().send(mail).await
    }
}

#[async_trait]
impl<T: Cdn> Cdn for OnFirstUse<T> {
    async fn invalidate(&self, paths: &[String], caller_reference: &str) -> Result<(), CdnError> {
        self.built().invalidate(paths, caller_reference).await
    }
}
