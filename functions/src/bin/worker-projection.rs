//! Lambda for the projection worker (`evreg::handlers::workers::projection`), fed by its SQS queue.

evreg::worker_function!(projection);
