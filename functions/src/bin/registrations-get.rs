//! Lambda for the route served by `evreg::handlers::routes::registrations_get`.

use evreg::handlers::routes::registrations_get;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(|ctx, req| async move {
        registrations_get::handle(&ctx, req).await
    })
    .await
}
