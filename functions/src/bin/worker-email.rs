//! Lambda for the email worker (`evreg::handlers::workers::email`), fed by its SQS queue.

evreg::worker_function!(email);
