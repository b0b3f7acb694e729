//! Lambda for the route served by `evreg::handlers::routes::events_revocations`.

use evreg::handlers::routes::{events_revocations, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsRevocations, |ctx, req, caller| async move {
        events_revocations::handle(&ctx, req, caller).await
    })
    .await
}
