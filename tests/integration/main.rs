//! evreg integration tests: one binary (one link of the AWS SDK), one module per area.
//! AWS-mode tests need the emulator that `make test` starts (`AWS_ENDPOINT_URL`).

mod attendee;
mod authz;
mod blobs;
mod bus;
mod cdn;
mod conformance;
mod crash;
mod dead_letters;
mod dev_server;
mod door;
mod e2e;
mod events_api;
mod faults;
mod handlers;
mod hardening;
mod health;
mod identity;
mod journey;
mod jwt_attacks;
mod mail;
mod openapi;
mod pages;
mod payments;
mod runtime;
mod secrets;
mod template;
mod users;
