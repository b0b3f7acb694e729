//! Lambda for the route served by `evreg::handlers::routes::events_create`.

use evreg::handlers::routes::{events_create, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsCreate, |ctx, req, caller| async move {
        events_create::handle(&ctx, req, caller).await
    })
    .await
}
