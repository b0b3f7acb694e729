//! Scheduled Lambda (every minute): republishes outbox entries whose request died between
//! the DynamoDB write and the SNS publish (`evreg::app::AppContext::sweep_outbox`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_sweeper().await
}
