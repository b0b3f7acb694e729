//! Lambda for the CDN worker (`evreg::handlers::workers::cdn`), fed by its SQS queue.

use evreg::handlers::workers::{cdn, Worker};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_worker(Worker::Cdn, |ctx, batch| async move {
        cdn::handle(&ctx, batch).await
    })
    .await
}
