//! Idempotency records: one execution per key, for `Idempotency-Key` on POST routes and
//! for consumers that must act once per domain event (the email worker's sends).

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use super::StoreError;

/// The state of an idempotency key when claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The caller runs the operation, then calls `complete` or `release`.
    Acquired,
    /// Another execution holds the key and has not finished.
    InFlight {
        /// What the holder claimed the key for.
        fingerprint: String,
    },
    /// It ran: a retry answers with `outcome`, if the fingerprints agree.
    Completed {
        /// What the first execution claimed the key for.
        fingerprint: String,
        /// What it stored on completion.
        outcome: String,
    },
}

/// Idempotency keys with leases: claim, then complete (or release on failure).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the idempotency key `key` for one execution of what `fingerprint` identifies
    /// (a hash of the request, or empty): see [`Claim`]. An in-flight claim older than
    /// `lease` is presumed dead and taken over; every record is forgotten `ttl` after its
    /// claim (an expired record counts as absent even before TTL deletion).
    async fn claim(
        &self,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        lease: Duration,
        ttl: Duration,
    ) -> Result<Claim, StoreError>;

    /// Stores the `outcome` of the execution that claimed `key`, for its later claimants.
    async fn complete(&self, key: &str, outcome: &str) -> Result<(), StoreError>;

    /// Drops the in-flight claim of `key` whose execution failed, so that a retry runs it
    /// again; a completed key keeps its outcome.
    async fn release(&self, key: &str) -> Result<(), StoreError>;
}
