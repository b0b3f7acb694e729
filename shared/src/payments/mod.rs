//! What both payment adapters share: Stripe's webhook signature scheme (the embedded
//! provider signs its webhooks the same way, so one verification serves both) and the
//! reading of Stripe event bodies.

pub mod signature;
pub mod webhook;

use time::OffsetDateTime;

use crate::ports::{WebhookError, WebhookEvent};

/// Verifies and reads webhooks signed with any of `secrets` (during a rotation the old and
/// the new one are both configured).
#[derive(Clone)]
pub struct WebhookVerifier {
    secrets: Vec<String>,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier").finish_non_exhaustive()
    }
}

impl WebhookVerifier {
    /// A verifier accepting signatures under any of `secrets` (Stripe's `whsec_…`).
    pub fn new(secrets: Vec<String>) -> Self {
        Self { secrets }
    }

    /// The event in `body` if `header` signs it under one of the secrets within the
    /// tolerance of `now` ([`signature::TOLERANCE`]).
    pub fn verify(
        &self,
        body: &[u8],
        header: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<WebhookEvent, WebhookError> {
        let header = header.ok_or(WebhookError::Unsigned)?;
        signature::verify(header, body, &self.secrets, now)?;
        webhook::parse(body)
    }
}
