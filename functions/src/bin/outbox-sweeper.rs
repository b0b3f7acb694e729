//! Scheduled Lambda (every minute): republishes outbox entries whose request died between
//! the DynamoDB write and the SNS publish (`evreg::handlers::schedules::outbox_sweeper`).

evreg::schedule_function!(outbox_sweeper);
