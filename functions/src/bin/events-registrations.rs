//! Lambda for the route served by `evreg::handlers::routes::events_registrations`.

use evreg::handlers::routes::events_registrations;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(|ctx, req| async move {
        events_registrations::handle(&ctx, req).await
    })
    .await
}
