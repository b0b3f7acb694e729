//! Scheduled Lambda (every minute): releases lapsed holds on time
//! (`evreg::handlers::schedules::holds_expirer`).

evreg::schedule_function!(holds_expirer);
