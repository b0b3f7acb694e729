//! Lambda for the CDN worker (`evreg::handlers::workers::cdn`), fed by its SQS queue.

evreg::worker_function!(cdn);
