//! Lambda for the route served by `evreg::handlers::routes::health`.

use evreg::handlers::routes::health;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(|ctx, req| async move { health::handle(&ctx, req).await })
        .await
}
