//! Lambda for the email worker (`evreg::handlers::workers::email`), fed by its SQS queue.

use evreg::handlers::workers::{email, Worker};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_worker(Worker::Email, |ctx, batch| async move {
        email::handle(&ctx, batch).await
    })
    .await
}
