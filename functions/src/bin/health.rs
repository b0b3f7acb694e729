//! Lambda for the route served by `evreg::handlers::routes::health`.

use evreg::handlers::routes::{health, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::Health, |ctx, req, caller| async move {
        health::handle(&ctx, req, caller).await
    })
    .await
}
