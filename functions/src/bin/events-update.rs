//! Lambda for the route served by `evreg::handlers::routes::events_update`.

use evreg::handlers::routes::events_update;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        |ctx, req| async move { events_update::handle(&ctx, req).await },
    )
    .await
}
