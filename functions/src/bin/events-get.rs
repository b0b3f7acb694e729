//! Lambda for the route served by `evreg::handlers::routes::events_get`.

use evreg::handlers::routes::events_get;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(|ctx, req| async move { events_get::handle(&ctx, req).await })
        .await
}
