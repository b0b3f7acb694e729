//! Lambda for the tickets worker (`evreg::handlers::workers::tickets`), fed by its SQS queue.

evreg::worker_function!(tickets);
