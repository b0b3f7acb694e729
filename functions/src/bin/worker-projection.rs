//! Lambda for the projection worker (`evreg::handlers::workers::projection`), fed by its SQS queue.

use evreg::handlers::workers::{projection, Worker};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_worker(Worker::Projection, |ctx, batch| async move {
        projection::handle(&ctx, batch).await
    })
    .await
}
