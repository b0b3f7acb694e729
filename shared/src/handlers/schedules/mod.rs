//! Scheduled jobs (an EventBridge schedule in AWS, a background task in embedded mode):
//! the holds expirer. (The outbox sweeper is `AppContext::sweep_outbox`.)

pub mod holds_expirer;
