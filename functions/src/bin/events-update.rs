//! Lambda for the route served by `evreg::handlers::routes::events_update`.

use evreg::handlers::routes::{events_update, Route};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    evreg::runtime::lambda::run_route(Route::EventsUpdate, |ctx, req, caller| async move {
        events_update::handle(&ctx, req, caller).await
    })
    .await
}
