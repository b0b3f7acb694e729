//! The application context every handler runs against: ports plus the auth services.
//! Built once per Lambda cold start (or once per dev-server process), never per request.

use std::sync::Arc;

use time::Duration;

use uuid::Uuid;

use crate::auth::{KeyRing, Passwords, TokenService};
use crate::domain::Envelope;
use crate::ports::{Blobs, Bus, Cdn, Clock, Mailer, ReadModel, Store};
use crate::tickets::AttendeeKeys;

#[derive(Clone)]
pub struct AppContext {
    pub store: Arc<dyn Store>,
    pub read_model: Arc<dyn ReadModel>,
    pub bus: Arc<dyn Bus>,
    pub blobs: Arc<dyn Blobs>,
    pub mailer: Arc<dyn Mailer>,
    pub cdn: Arc<dyn Cdn>,
    pub clock: Arc<dyn Clock>,
    pub tokens: TokenService,
    pub passwords: Passwords,
    pub attendee_keys: AttendeeKeys,
    /// The API's public base URL, for the links in attendees' emails.
    pub public_url: String,
}

/// Every secret a function needs: SSM parameters in AWS, files under `.local/secrets/`
/// in embedded mode.
#[derive(Clone)]
pub struct Secrets {
    pub jwt: KeyRing,
    pub attendee: AttendeeKeys,
}

impl Secrets {
    pub fn generate() -> Self {
        Self {
            jwt: KeyRing::generate("dev-1"),
            attendee: AttendeeKeys::generate(),
        }
    }
}

/// Outbox entries younger than this are left to the request that wrote them, so the
/// sweeper does not race every fresh write into a duplicate delivery.
pub const SWEEP_GRACE: Duration = Duration::seconds(30);
const SWEEP_BATCH: usize = 100;

impl AppContext {
    /// Where an attendee views or cancels a registration without an account.
    pub fn manage_url(&self, registration_id: Uuid) -> String {
        format!(
            "{}/registrations/{registration_id}?token={}",
            self.public_url.trim_end_matches('/'),
            self.attendee_keys.manage_token(registration_id)
        )
    }

    /// Publishes the events of a committed write and marks them delivered. A failure loses
    /// nothing — the events stay in the outbox and the sweeper republishes them — so it is
    /// logged, not returned: the write the client asked for has happened.
    pub async fn publish(&self, events: &[Envelope]) {
        if let Err(error) = self.publish_and_mark(events).await {
            tracing::warn!(%error, count = events.len(), "publish after commit failed; left for the outbox sweeper");
        }
    }

    async fn publish_and_mark(
        &self,
        events: &[Envelope],
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.bus.publish(events).await?;
        let ids: Vec<_> = events.iter().map(|e| e.id).collect();
        self.store.mark_published(&ids).await?;
        Ok(())
    }

    /// Republishes outbox entries that a request wrote but never marked published (the
    /// function died, or the bus was down). Returns how many were republished.
    pub async fn sweep_outbox(&self) -> Result<usize, Box<dyn std::error::Error + Send + Sync>> {
        let cutoff = self.clock.now() - SWEEP_GRACE;
        let mut swept = 0;
        loop {
            let stale: Vec<Envelope> = self
                .store
                .unpublished(SWEEP_BATCH)
                .await?
                .into_iter()
                .filter(|e| e.occurred_at < cutoff)
                .collect();
            if stale.is_empty() {
                return Ok(swept);
            }
            self.publish_and_mark(&stale).await?;
            swept += stale.len();
        }
    }
}
