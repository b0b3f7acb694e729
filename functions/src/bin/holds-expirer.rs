//! Scheduled Lambda (every minute): releases every seat held for payment whose time ran out
//! (`evreg::handlers::schedules::holds_expirer`).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_holds_expirer().await
}
