//! Lambda for the CDN worker (`evreg::handlers::workers::cdn`), fed by its SQS queue.

use evreg::handlers::workers::cdn;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_worker(|ctx, batch| async move { cdn::handle(&ctx, batch).await })
        .await
}
