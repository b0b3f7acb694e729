//! Lambda for the route served by `evreg::handlers::routes::health`.

use evreg::handlers::routes::{health, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::Health, |ctx, req, _caller| async move {
        health::handle(&ctx, req).await
    })
    .await
}
