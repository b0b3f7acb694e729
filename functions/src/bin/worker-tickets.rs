//! Lambda for the tickets worker (`evreg::handlers::workers::tickets`), fed by its SQS queue.

use evreg::handlers::workers::{tickets, Worker};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_worker(Worker::Tickets, |ctx, batch| async move {
        tickets::handle(&ctx, batch).await
    })
    .await
}
