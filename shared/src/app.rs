//! The application context every handler runs against: the ports, by aggregate, plus the
//! auth services. Built once per Lambda cold start (`runtime::lambda`) or once per
//! dev-server process (`runtime::dev_server`), never per request.

use std::sync::Arc;

use crate::auth::{Passwords, TokenService};
use crate::domain::{Envelope, RegistrationId};
use crate::http::CursorSigner;
use crate::ports::{
    Blobs, BoxError, Bus, Cdn, Clock, Committed, EventStore, IdempotencyStore, IdentityStore,
    Mailer, Outbox, PaymentStore, Payments, ReadModel, RegistrationStore, UserStore,
};
use crate::tickets::AttendeeKeys;

/// What a handler may touch. Handlers name the port they use (`ctx.registrations`), so a
/// reader sees at a glance what a route reads and writes.
#[derive(Clone)]
pub struct AppContext {
    /// Events and their seat counters.
    pub events: Arc<dyn EventStore>,
    /// Registrations: seats, waitlist, cancellations, check-ins, tickets.
    pub registrations: Arc<dyn RegistrationStore>,
    /// Holds, payments and refunds of registrations on paid events.
    pub payment_records: Arc<dyn PaymentStore>,
    /// Accounts.
    pub users: Arc<dyn UserStore>,
    /// Refresh tokens, login throttling, password resets.
    pub identity: Arc<dyn IdentityStore>,
    /// Idempotency keys (requests, and once-only consumer work).
    pub idempotency: Arc<dyn IdempotencyStore>,
    /// What the writes above left to publish.
    pub outbox: Arc<dyn Outbox>,
    /// The CQRS read model (listings, counters, reports).
    pub read_model: Arc<dyn ReadModel>,
    /// Where domain events are published.
    pub bus: Arc<dyn Bus>,
    /// Ticket images.
    pub blobs: Arc<dyn Blobs>,
    /// Outgoing mail.
    pub mailer: Arc<dyn Mailer>,
    /// The CDN in front of the public API.
    pub cdn: Arc<dyn Cdn>,
    /// The payment provider (Stripe; the dev checkout page).
    pub payments: Arc<dyn Payments>,
    /// Now.
    pub clock: Arc<dyn Clock>,
    /// Access tokens (JWT).
    pub tokens: TokenService,
    /// Password hashing (argon2id).
    pub passwords: Passwords,
    /// Tickets and manage tokens.
    pub attendee_keys: AttendeeKeys,
    /// Listing cursors leave the API signed.
    pub cursors: CursorSigner,
    /// The API's public base URL, for the links in attendees' emails.
    pub public_url: String,
}

impl AppContext {
    /// Where an attendee views or cancels a registration without an account: the
    /// registration's URL with its manage token.
    pub fn manage_url(&self, registration_id: RegistrationId) -> String {
        format!(
            "{}/registrations/{registration_id}?token={}",
            self.public_url.trim_end_matches('/'),
            self.attendee_keys.manage_token(registration_id)
        )
    }

    /// Publishes the outbox entries of a committed write, marks them delivered, and answers
    /// the write's value. A failure loses nothing — the entries stay in the outbox and the
    /// sweeper republishes them — so it is logged, not returned: the write the caller
    /// asked for has happened.
    pub async fn publish<T>(&self, committed: Committed<T>) -> T {
        let (value, outbox) = committed.into_parts();
        if !outbox.is_empty() {
            if let Err(error) = self.publish_and_mark(&outbox).await {
                tracing::warn!(%error, count = outbox.len(), "publish after commit failed; left for the outbox sweeper");
            }
        }
        value
    }

    /// Publishes `outbox` entries and marks them delivered (the publish after a write, and
    /// the sweeper's).
    pub async fn publish_and_mark(&self, outbox: &[Envelope]) -> Result<(), BoxError> {
        self.bus.publish(outbox).await?;
        let ids: Vec<_> = outbox.iter().map(|e| e.id).collect();
        self.outbox.mark_published(&ids).await?;
        Ok(())
    }
}
