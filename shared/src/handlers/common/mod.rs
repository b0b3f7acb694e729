//! What several route handlers share at the HTTP edge: access control ([`access`]),
//! `Idempotency-Key` ([`idempotency`]), token responses ([`session`]), response shapes
//! ([`views`]), the public event page ([`event_page`]), the attendee's page
//! ([`attendee_page`]) and the door app's files ([`door`]). What the entrances do alike
//! beyond HTTP is an application service ([`crate::services`]).

pub mod access;
pub mod attendee_page;
pub mod door;
pub mod event_page;
pub mod idempotency;
pub mod session;
pub mod views;
