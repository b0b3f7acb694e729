//! Lambda for the payments worker (`evreg::handlers::workers::payments`), fed by its SQS queue.

evreg::worker_function!(payments);
