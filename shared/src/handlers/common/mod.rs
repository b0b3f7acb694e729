//! What several handlers share: access control ([`access`]), `Idempotency-Key`
//! ([`idempotency`]), taking seats and opening checkouts ([`seats`]), token responses
//! ([`session`]), event writes ([`event_writes`]), registration details
//! ([`registration_writes`]), response shapes ([`views`]), the public event page
//! ([`event_page`]), the attendee's page ([`attendee_page`]) and the door app's files
//! ([`door`]).

pub mod access;
pub mod attendee_page;
pub mod door;
pub mod event_page;
pub mod event_writes;
pub mod idempotency;
pub mod registration_writes;
pub mod seats;
pub mod session;
pub mod views;
