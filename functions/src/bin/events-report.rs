//! Lambda for the route served by `evreg::handlers::routes::events_report`.

use evreg::handlers::routes::events_report;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        |ctx, req| async move { events_report::handle(&ctx, req).await },
    )
    .await
}
