//! Lambda for the payments worker (`evreg::handlers::workers::payments`), fed by its SQS queue.

use evreg::handlers::workers::{payments, Worker};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_worker(Worker::Payments, |ctx, batch| async move {
        payments::handle(&ctx, batch).await
    })
    .await
}
