//! What several route handlers share: access control ([`access`]), `Idempotency-Key`
//! ([`idempotency`]), token responses ([`session`]), event writes ([`event_writes`]) and
//! response shapes ([`views`]).

pub mod access;
pub mod event_writes;
pub mod idempotency;
pub mod session;
pub mod views;
