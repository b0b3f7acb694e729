//! Lambda for the route served by `evreg::handlers::routes::events_get`.

use evreg::handlers::routes::{events_get, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsGet, |ctx, req, caller| async move {
        events_get::handle(&ctx, req, caller).await
    })
    .await
}
