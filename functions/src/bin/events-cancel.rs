//! Lambda for the route served by `evreg::handlers::routes::events_cancel`.

use evreg::handlers::routes::events_cancel;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(
        |ctx, req| async move { events_cancel::handle(&ctx, req).await },
    )
    .await
}
